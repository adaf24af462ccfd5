"""Safe on the open internet: production settings, CSP, body caps, private files, slow clients."""

import contextlib
import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from tests.up_process import start_up

SCRIPT = str(Path(sys.executable).parent / "shiporskip")
# The production configuration the README documents, and nothing else.
PRODUCTION = {
    "SHIPORSKIP_DEBUG": "false",
    "SHIPORSKIP_SITE_URL": "https://verdicts.example.com",
    "SHIPORSKIP_ALLOWED_HOSTS": "verdicts.example.com",
}


def clean_env(tmp_path, **extra) -> dict:
    ours = ("SHIPORSKIP_", "EMAIL_", "DJANGO_", "DATABASE_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return env | {
        "SHIPORSKIP_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "shiporskip.settings",
        **extra,
    }


def settings_under(env: dict, *names: str) -> dict:
    """Settings as a fresh process reads them from `env` (they are fixed at import)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_documented_production_settings_pass_check_deploy(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean_env(tmp_path, **PRODUCTION),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_an_https_site_turns_the_secure_settings_on_and_each_can_be_set(tmp_path):
    names = (
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
    )
    on = settings_under(clean_env(tmp_path, **PRODUCTION), *names)
    assert on == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://verdicts.example.com"],
    }
    chosen = settings_under(
        clean_env(
            tmp_path,
            **PRODUCTION,
            SHIPORSKIP_HSTS_SECONDS="3600",
            SHIPORSKIP_HSTS_PRELOAD="true",
            SHIPORSKIP_SSL_REDIRECT="false",
            SHIPORSKIP_PROXY_SSL_HEADER="X-Scheme",
        ),
        *names,
    )
    assert chosen["SECURE_HSTS_SECONDS"] == 3600 and chosen["SECURE_HSTS_PRELOAD"] is True
    assert chosen["SECURE_SSL_REDIRECT"] is False
    assert chosen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_SCHEME", "https"]
    laptop = settings_under(clean_env(tmp_path), *names)
    assert laptop["SESSION_COOKIE_SECURE"] is False and laptop["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHIPORSKIP_SITE_URL": "verdicts.example.com"}, "is not a site address"),
        ({"SHIPORSKIP_SITE_URL": "https://verdicts.example.com/path"}, "is not a site address"),
        ({"SHIPORSKIP_SSL_REDIRECT": "true"}, "is http, but secure cookies"),
        ({"SHIPORSKIP_HSTS_SECONDS": "soon"}, "is not a whole number"),
        ({"SHIPORSKIP_PROXY_SSL_HEADER": "X Forwarded: https"}, "is not a header name"),
        ({"SHIPORSKIP_MAX_BODY": "10"}, "must be at least 1024"),
    ],
)
def test_contradictory_or_malformed_security_settings_stop_start_up_with_a_message(tmp_path, env, message):
    result = subprocess.run(
        [SCRIPT, "runs"], env=clean_env(tmp_path, **env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_every_page_has_a_strict_content_security_policy(client, seed_pair):
    for url in [
        "/",
        "/compare/code-llama-4-vs-mistral-3-small-22b",
        "/tools/code-llama-4",
        "/accounts/signin",
        "/admin/login/",
    ]:
        response = client.get(url)
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'", url
        assert "unsafe" not in policy["script-src"] + policy["default-src"] + policy["style-src"]
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.browser
def test_pages_run_under_the_policy_without_a_violation(seed_pair, live_server, browser, admin_user):
    """Chromium reports every blocked script, style or request; htmx still votes under CSP."""
    page = browser.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append((page.url, message.text))
        ),
    )
    urls = [
        "/",
        "/compare/code-llama-4-vs-mistral-3-small-22b",
        "/tools/code-llama-4",
        "/newsletter/",
        "/accounts/signin",
        "/personas",
    ]
    for url in urls:
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
    page.goto(live_server.url + "/tools/code-llama-4")
    page.wait_for_selector("html[data-reader=ready]")
    page.locator(".vote[data-tool=code-llama-4] button[value=ship]").first.click()
    page.wait_for_selector(".vote[data-tool=code-llama-4] button[value=ship][aria-pressed=true]")
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.goto(live_server.url + "/admin/catalog/tool/")
    page.wait_for_load_state("networkidle")
    assert violations == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/accounts/signin",
        "/accounts/signup",
        "/newsletter/subscribe",
        "/admin/login/",
        "/tools/code-llama-4/vote",
        "/api/tools",
    ],
)
def test_a_large_body_is_refused_before_it_is_read(client, url):
    big = b"x" * (10 * 1024 * 1024)
    response = client.generic("POST", url, big, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    assert b"at most 65536" in response.content


@pytest.mark.django_db
def test_a_body_within_the_cap_still_works(client):
    response = client.post(reverse("newsletter:subscribe"), {"email": "reader@example.com"})
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()


def modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)) or ".": stat.S_IMODE(p.stat().st_mode)
        for p in [root, *root.rglob("*")]
        if p.exists()
    }


def test_the_data_dir_is_private_from_creation(tmp_path):
    data = tmp_path / "data"
    result = subprocess.run(
        [SCRIPT, "runs"], env=clean_env(data), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = modes(data)
    assert found["."] == 0o700
    assert found["secret_key"] == 0o600 and found["shiporskip.sqlite3"] == 0o600
    assert "warning" not in result.stderr


def test_a_readable_data_dir_is_fixed_on_start_up_with_a_warning(tmp_path):
    data = tmp_path / "data"
    subprocess.run([SCRIPT, "runs"], env=clean_env(data), capture_output=True, timeout=120, check=True)
    (data / "mail").mkdir()
    (data / "mail" / "reset.log").write_text("https://example.com/reset/secret")
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    result = subprocess.run(
        [SCRIPT, "runs"], env=clean_env(data), capture_output=True, text=True, timeout=120
    )
    assert "could be read by other users" in result.stderr
    assert set(modes(data).values()) <= {0o700, 0o600}, modes(data)


def test_a_shared_sticky_folder_keeps_its_mode(tmp_path):
    from shiporskip.conf import keep_private

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "someone-elses.txt").write_text("x")
    (shared / "someone-elses.txt").chmod(0o644)
    keep_private(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "someone-elses.txt").stat().st_mode) == 0o644


def test_mail_files_are_private(tmp_path, settings):
    settings.EMAIL_BACKEND = "shiporskip.mail.PrivateFileBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    old = os.umask(0o022)  # as a web server started by hand would have it
    try:
        mail.send_mail("Reset", "https://example.com/reset/secret", None, ["reader@example.com"])
    finally:
        os.umask(old)
    [written] = (tmp_path / "mail").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700


def test_mail_goes_to_files_only_when_asked_or_on_a_laptop(tmp_path):
    def backend(**env):
        return settings_under(clean_env(tmp_path, **env), "EMAIL_BACKEND")["EMAIL_BACKEND"]

    assert backend() == "shiporskip.mail.PrivateFileBackend"  # a site on this machine's loopback
    assert backend(**PRODUCTION) == "shiporskip.mail.NowhereBackend"
    asked = backend(**PRODUCTION, SHIPORSKIP_MAIL_DIR=str(tmp_path / "m"))
    assert asked == "shiporskip.mail.PrivateFileBackend"
    assert backend(**PRODUCTION, EMAIL_HOST="smtp.example.com").endswith("smtp.EmailBackend")


def test_a_public_site_without_smtp_says_what_it_did_not_send(settings, caplog):
    settings.EMAIL_BACKEND = "shiporskip.mail.NowhereBackend"
    with caplog.at_level("ERROR", logger="shiporskip.mail"):
        sent = mail.send_mail("Confirm", "body", None, ["reader@example.com"])
    assert sent == 0
    assert "Email not sent (no EMAIL_HOST is set)" in caplog.text and "reader@example.com" not in caplog.text


@pytest.mark.django_db
def test_server_errors_are_logged_with_their_traceback(client, settings, monkeypatch):
    import logging

    from shiporskip.catalog import views

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(views, "render", broken)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("django.request")
    assert any(h.name == "stderr" or isinstance(h, logging.StreamHandler) for h in logger.handlers)
    logger.addHandler(handler)
    client.raise_request_exception = False
    try:
        assert client.get("/").status_code == 500
    finally:
        logger.removeHandler(handler)
    assert records and records[0].exc_info and "the disk is full" in str(records[0].exc_info[1])


# -- serving: the server `up` starts survives slow clients --------------------------------


def start_site(tmp_path, **extra):
    up = start_up(clean_env(tmp_path, SHIPORSKIP_WEB_WORKERS="2", **extra), timeout=90)
    return up.port, up.proc, up.lines


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`shiporskip up` on a fresh SQLite data dir, as a publisher starts it (once: the tests
    using it only read)."""
    port, proc, _ = start_site(tmp_path_factory.mktemp("site"))
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_the_documented_production_site_behind_a_proxy(tmp_path):
    """The README's production settings, served by `up` and reached as the proxy would."""
    port, proc, lines = start_site(tmp_path, **PRODUCTION)
    try:
        assert any("is running at https://verdicts.example.com/" in line for line in lines)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/accounts/signin", headers={"Host": "verdicts.example.com"})
        plain = connection.getresponse()
        plain.read()
        assert plain.status == 301
        assert plain.getheader("Location") == "https://verdicts.example.com/accounts/signin"
        connection.request(
            "GET", "/accounts/signin", headers={"Host": "verdicts.example.com", "X-Forwarded-Proto": "https"}
        )
        secure = connection.getresponse()
        secure.read()
        assert secure.status == 200
        assert secure.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
        cookies = secure.headers.get_all("Set-Cookie")
        assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies), cookies
        assert "script-src 'self'" in secure.getheader("Content-Security-Policy")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        response.read()
        return response.status


def still_open(sock: socket.socket) -> bool:
    """True while the server holds the connection: it has neither answered nor closed it."""
    sock.setblocking(False)
    try:
        sock.recv(1)  # b"": closed; bytes: an answer (408 and the like)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_slow_clients_do_not_stall_readers(site):
    """Connections that never finish their headers (slowloris) must not hold the workers.

    Behaviour, not wall time: every reader is answered while each slow connection is still
    held open. A server whose workers they stalled would answer only once it gave up on them
    (its header timeout closes them; see `up`'s web command), and the check after would fail.
    """
    url = f"http://127.0.0.1:{site}/"
    get(url)  # warm
    slow = []
    for _ in range(16):  # far more than there are web workers and threads
        sock = socket.create_connection(("127.0.0.1", site))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        slow.append(sock)
    # And bodies that never finish. granian hands such a request to a Python thread, which
    # waits for the rest: with 2 threads per process (SHIPORSKIP_WEB_THREADS=2) these eight
    # left none for the readers, so the default keeps granian's own number.
    for path in ["/newsletter/subscribe", "/tools/cursor/vote"] * 4:
        slow_post = socket.create_connection(("127.0.0.1", site))
        slow_post.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 60000\r\n\r\nemail="
        )
        slow.append(slow_post)
    try:
        statuses = [get(url) for _ in range(5)]
        held = [still_open(sock) for sock in slow]
    finally:
        for sock in slow:
            sock.close()
    assert statuses == [200] * 5
    assert all(held), f"{held.count(False)} of {len(held)} slow connections were dropped first"


def test_the_server_refuses_a_large_body_over_http(site):
    """Announce 10 MB, send the first 64 KB: the answer is the server's 413, read off the wire."""
    connection = http.client.HTTPConnection("127.0.0.1", site, timeout=30)
    connection.putrequest("POST", "/accounts/signin")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(10 * 1024 * 1024))
    connection.endheaders()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it may stop reading
        connection.send(b"x" * 65_536)
    response = connection.getresponse()
    assert response.status == 413 and b"at most 65536" in response.read()
