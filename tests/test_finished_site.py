"""A finished site (issue 11, scope 6): error pages, icons, footer, no-JavaScript state, the
newsletter address kept out of URLs, provenance in words, packaging and `up`'s output.

The browser half (layout at 360 px, JavaScript off, axe-core) is tests/test_finished_site_browser.py.
"""

import re
import tomllib
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import Resolver404, resolve

from shiporskip.community.models import Bookmark, Vote
from shiporskip.newsletter.models import Subscriber
from tests.community import CODE_LLAMA, COMPARE
from tests.up_process import site_env, start_up

ROOT = Path(__file__).resolve().parent.parent
# The footer's links: other parts of the site build /tools and the feed; they are linked by path.
FOOTER = [
    "/",
    "/tools",
    "/#categories",
    "/#compare",
    "/panel/",
    "/bookmarks",
    "/newsletter/",
    "/feeds/verdicts.atom",
    "/api/docs",
]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def footer_of(html: str) -> str:
    return html[html.index('<footer class="site-footer">') :]


# -- 404 and 500 -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_address_gets_the_styled_404_with_the_picker(seed_pair, client, settings):
    settings.DEBUG = False
    for url in ("/no-such-page", f"/tools/{CODE_LLAMA}-nope", "/panel/nobody"):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404, url
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "/static/shiporskip/site." in html and '<nav aria-label="Main">' in html
        assert "We can't find that page" in html
        assert 'action="/compare/"' in html or 'class="picker"' in html  # the compare picker
        assert f'<option value="{CODE_LLAMA}">' in html
        assert all(f'href="{link}"' in footer_of(html) for link in FOOTER)


def test_the_500_page_stands_alone_with_no_query():
    from django.views.defaults import server_error

    def no_database(*args):
        raise AssertionError("the 500 page queried the database")

    request = RequestFactory().get("/broken")
    with connection.execute_wrapper(no_database):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "/static/shiporskip/site." in html and "Something went wrong on our side" in html
    assert '<main id="main"' in html and '<nav aria-label="Main">' in html
    assert all(f'href="{link}"' in html for link in FOOTER)
    assert "<script" not in html  # nothing that would call /me on a broken site


# -- icons and footer ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_real_favicon_and_touch_icon(seed_pair, client):
    html = client.get("/").content.decode()
    assert 'href="data:,"' not in html
    links = dict(re.findall(r'<link rel="(icon|apple-touch-icon)" href="([^"]+)"', html))
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)" type="image/svg\+xml">', html).group(1)
    png = re.search(r'<link rel="icon" href="([^"]+\.png)" type="image/png" sizes="32x32">', html).group(1)
    touch = links["apple-touch-icon"]
    assert b"<svg" in b"".join(client.get(svg).streaming_content)
    assert png_size(b"".join(client.get(png).streaming_content)) == (32, 32)
    assert png_size(b"".join(client.get(touch).streaming_content)) == (180, 180)
    ico = ROOT / "shiporskip/static/shiporskip/icons/favicon.ico"
    assert ico.read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO header


@pytest.mark.django_db
def test_the_footer_links_every_main_part(seed_pair, client):
    pages = ["/", f"/tools/{CODE_LLAMA}", COMPARE, "/panel/", "/newsletter/", "/accounts/signin"]
    for url in pages:
        footer = footer_of(client.get(url).content.decode())
        assert all(f'href="{link}"' in footer for link in FOOTER), url
    for link in FOOTER:
        path = link.split("#")[0]
        try:
            resolve(path)
        except Resolver404:
            continue  # built by another part of the site; linked by its agreed path
        assert client.get(path).status_code == 200, path


# -- JavaScript off: the reader's own vote and bookmark ------------------------------------


@pytest.mark.django_db
def test_without_javascript_the_confirm_page_shows_the_readers_vote_and_bookmark(seed_pair):
    reader = Client()
    tool_page = reader.get(f"/tools/{CODE_LLAMA}").content.decode()
    link = re.search(
        r'<noscript><p class="vote-mine"><a href="([^"]+)">Your vote on Code Llama 4</a>', tool_page
    ).group(1)
    confirm = reader.get(link)
    html = confirm.content.decode()
    assert "You have not voted on Code Llama 4 yet." in html and "not in your bookmarks yet" in html
    after = re.search(r'name="next" value="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert after == f"/tools/{CODE_LLAMA}/vote?next=%2Ftools%2F{CODE_LLAMA}"

    voted = reader.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship", "next": after})
    assert voted.status_code == 303 and voted["Location"] == after  # back to the confirm page
    html = reader.get(after).content.decode()
    assert "You voted <strong>Ship</strong> on Code Llama 4." in html
    assert 'value="none" class="vote-btn vote-none">Take back</button>' in html  # shown, not hidden
    assert 'value="ship" class="vote-btn vote-ship" aria-pressed="true"' in html

    reader.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1", "next": after})
    html = reader.get(after).content.decode()
    assert "Code Llama 4 is in your bookmarks." in html and "★ Bookmarked" in html
    html = reader.get(f"/tools/{CODE_LLAMA}/bookmark?next=/").content.decode()
    assert "You voted <strong>Ship</strong>" in html and "Code Llama 4 is in your bookmarks." in html

    reader.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "none", "next": after})
    assert "You have not voted on Code Llama 4 yet." in reader.get(after).content.decode()
    assert not Vote.objects.exists() and Bookmark.objects.count() == 1


# -- the newsletter address never in a URL -------------------------------------------------


@pytest.mark.django_db
def test_the_box_posts_and_its_no_javascript_page_changes_nothing(seed_pair):
    for url in ("/", f"/tools/{CODE_LLAMA}", COMPARE):
        html = Client().get(url).content.decode()
        box = re.search(r'<form class="newsletter-box"[^>]*>', html).group(0)
        assert 'method="post"' in box and 'action="/newsletter/subscribe/form"' in box, url
    client = Client(enforce_csrf_checks=True)  # the cached box holds no token
    response = client.post(
        "/newsletter/subscribe/form", {"email": "Plain@Example.com", "csrfmiddlewaretoken": ""}
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'value="Plain@Example.com"' in html
    assert 'method="post" action="/newsletter/subscribe"' in html
    assert re.search(r'name="csrfmiddlewaretoken" value="\w+"', html)  # the next click carries one
    assert not Subscriber.objects.exists() and not mail.outbox
    # A GET is never prefilled from its query: no page of ours puts an address in a URL.
    assert "me@example.com" not in Client().get("/newsletter/subscribe?email=me@example.com").content.decode()


# -- how the verdict was made --------------------------------------------------------------


def test_models_in_words():
    from shiporskip.panel.provenance import model_in_words

    assert model_in_words("offline").startswith(
        "the offline reviewer ("
    ) and "no language model" in model_in_words("offline")
    assert model_in_words("llamacpp/models/gemma-3-270m.gguf") == "llama.cpp model gemma-3-270m"
    assert model_in_words("llamacpp-server/gemma") == "llama.cpp server model gemma"
    assert model_in_words("openai/gpt-4o-mini") == "OpenAI model gpt-4o-mini"
    assert model_in_words("ollama/qwen2.5:7b") == "Ollama model qwen2.5:7b"
    assert model_in_words("mystery/x") == "the model mystery/x"


@pytest.mark.django_db
def test_provenance_sits_behind_a_disclosure_once_per_panel(seed_pair, client):
    from django.utils import timezone

    html = client.get(f"/tools/{CODE_LLAMA}").content.decode()
    assert "Written by <code>" not in html and "prompt 3" not in html
    assert html.count('<details class="provenance-box" id="how-made">') == 1
    block = html[html.index('<details class="provenance-box"') : html.index("</details>")]
    assert "<summary>How this verdict was made</summary>" in block
    today = timezone.localdate().strftime("%-d %b %Y")
    assert html.count("Written by the offline reviewer (") == 1
    assert f"no language model) on {today}." in block
    assert "backend <code>offline</code>" in block and "Builder <code>" in block  # details, inside
    assert block.index("How this verdict was made") < block.index("<code>")


# -- packaging and `up` --------------------------------------------------------------------


def test_the_license_is_an_spdx_string_for_modern_setuptools():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"  # a table makes setuptools warn on every install
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == "setuptools>=77"  # the first release that reads the SPDX form
    test_extra = project["project"]["optional-dependencies"]["test"]
    assert any(r.startswith("axe-playwright-python") for r in test_extra)  # the a11y tests' axe-core


def test_up_prints_the_address_last_and_keeps_logs_in_files(tmp_path):
    logs = tmp_path / "logs"
    up = start_up(site_env(tmp_path, SHIPORSKIP_WEB_WORKERS="1"), until="The worker is ready", timeout=90)
    port, lines = up.port, up.lines
    try:
        assert "consumer started" in (logs / "worker.log").read_text().lower()
    finally:
        code = up.stop()  # its output read to the end, not for a guessed while
    assert code == 0, "".join(lines[-20:])
    # Everything it printed: the announcement is the last line until the reader stops it.
    address = f"Ship or Skip is running at http://127.0.0.1:{port}/"
    ready_at = next(i for i, line in enumerate(lines) if "The worker is ready" in line)
    assert address in lines[ready_at]
    after = [line.strip() for line in lines[ready_at + 1 :] if line.strip()]
    assert after == ["Stopping the web server and the worker…"], after
    assert sum(address in line for line in lines) == 2  # when the server listens, and again
    assert any(f"Logs: {logs / 'web.log'} and {logs / 'worker.log'}" in line for line in lines)
    assert not any("huey" in line.lower() for line in lines), "the worker's log reached the terminal"
    assert oct((logs / "worker.log").stat().st_mode & 0o777) == "0o600"
