"""`shiporskip backup` and `restore` as a publisher runs them: real processes, real files.

The round trip runs while the site (`shiporskip up`: gunicorn and the worker) serves and a
second process commits rows one by one; the restored database must hold every row committed
before the backup began, and a consistent state: the writer's rows as an unbroken prefix.
"""

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from shiporskip.backup import LOCK_FILE, known_migrations
from tests.up_process import SCRIPT, free_port
from tests.waiting import wait_for

# Commits votes one at a time, as fast as it can, through the ORM, and prints each id once
# committed. On SQLite it first pads the database (32 MB) so that the backup copies it in many
# steps while writes go on, and then holds a read open (as a slow page would): no checkpoint
# moves the rows after it into the database file, so they are only in the -wal file.
WRITER = """
import os, sqlite3, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
django.setup()
from django.db import connection
from shiporskip.catalog.models import Tool
from shiporskip.community.models import Vote
if connection.vendor == "sqlite":
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE padding (b BLOB)")
        cursor.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 8000) "
                       "INSERT INTO padding SELECT randomblob(4000) FROM n")
    reader = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM padding").fetchone()
tools = list(Tool.objects.order_by("slug")[:2])
print("ready", flush=True)
i = 0
while True:
    Vote.objects.create(tool=tools[i % 2], voter=f"a:w-{i}", verdict="ship")
    print(i, flush=True)
    i += 1
"""


def fetch(url: str) -> str:
    # A page of a site whose worker has just started reviewing the catalog: allow for a busy CPU.
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback only
        return response.read().decode()


def names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(name).read()


def opened(path: Path):
    return contextlib.closing(sqlite3.connect(path))  # closed after: a restore sees open files


def sqlite_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return env | {"SHIPORSKIP_DATA_DIR": str(data_dir), **extra}


def cli(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=timeout)


class Lines:
    """A child process's output lines, read in a thread as they come."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.lines = proc, []
        threading.Thread(target=lambda: self.lines.extend(proc.stdout), daemon=True).start()

    def wait_for(self, text: str, timeout: float) -> None:
        wait_for(lambda: any(text in line for line in self.lines), timeout, repr(text))


def start_site(data_dir: Path) -> tuple[subprocess.Popen, Lines, int]:
    port = free_port()
    proc = subprocess.Popen(
        [SCRIPT, "up", "--port", str(port)],
        text=True,
        env=sqlite_env(data_dir, SHIPORSKIP_WEB_WORKERS="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines = Lines(proc)
    lines.wait_for("is running at", 90)
    return proc, lines, port


def stop(proc: subprocess.Popen, sig=signal.SIGINT) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def committed(lines: Lines) -> int:
    """How many rows the writer has committed so far (its ids are 0, 1, 2, ...)."""
    return sum(1 for line in list(lines.lines) if line.strip().isdigit())


def writer_ids(conn) -> set[int]:
    cursor = conn.cursor()
    cursor.execute("SELECT voter FROM community_vote WHERE voter LIKE 'a:w-%'")
    return {int(voter[4:]) for (voter,) in cursor.fetchall()}


def test_round_trip_while_the_site_takes_writes(tmp_path):
    site, restored, file = tmp_path / "site", tmp_path / "restored", tmp_path / "backups" / "b.tar.gz"
    file.parent.mkdir()
    proc, _, _ = start_site(site)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        env=sqlite_env(site),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    written = Lines(writer)
    try:
        written.wait_for("ready", 60)
        wait_for(lambda: committed(written) >= 20, 60, "the writer's first rows")
        before = committed(written)  # every row up to here was committed before the backup began
        result = cli(sqlite_env(site), "backup", str(file), timeout=120)
        during = committed(written) - before
        assert result.returncode == 0, result.stderr
        assert writer.poll() is None, "".join(written.lines[-10:])

        refused = cli(sqlite_env(site), "restore", str(file))  # into the running site
        assert refused.returncode == 2
        assert "is running" in refused.stderr
    finally:
        stop(writer, signal.SIGKILL)
        stop(proc)
    assert during > 0, "no row was written while the backup ran"
    assert file.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(file.parent)) == ["b.tar.gz"]  # no draft left beside it
    assert "shiporskip.sqlite3 (database), queue.sqlite3 (queue)" in result.stdout

    result = cli(sqlite_env(restored), "restore", str(file))
    assert result.returncode == 0, result.stderr
    database = restored / "shiporskip.sqlite3"
    assert database.stat().st_mode & 0o777 == 0o600
    with opened(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = writer_ids(conn)
        assert conn.execute("SELECT count(*) FROM padding").fetchone()[0] == 8000
        assert conn.execute("SELECT count(*) FROM catalog_tool").fetchone()[0] == 58
    assert ids >= set(range(before)), "a row committed before the backup began is missing"
    assert ids == set(range(len(ids))), "the snapshot is not one consistent moment"
    with opened(restored / "queue.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    proc, _, port = start_site(restored)
    try:
        assert "Code Llama 4" in fetch(f"http://127.0.0.1:{port}/")
        assert "Code Llama 4" in fetch(f"http://127.0.0.1:{port}/tools/code-llama-4")
    finally:
        stop(proc)


# -- bad backups ----------------------------------------------------------------------------


def rebuild(good: Path, out: Path, *, manifest=None, members=None, drop=()) -> Path:
    """A copy of a backup with its manifest or files changed (checksums as given)."""
    with tarfile.open(good) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    data = json.loads(files.pop("manifest.json"))
    if manifest:
        manifest(data)
    files |= members or {}
    with tarfile.open(out, "w:gz") as tar:
        for name, content in [("manifest.json", json.dumps(data).encode()), *files.items()]:
            if name in drop:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out


def restored_site(directory: Path, backup: Path) -> dict:
    """A site restored from `backup`, settled, and its files' state."""
    assert cli(sqlite_env(directory), "restore", str(backup)).returncode == 0
    # The first start after a restore switches the files to WAL mode (the queue's header changes).
    assert cli(sqlite_env(directory), "runs").returncode == 0
    return state(directory)


def state(directory: Path) -> dict:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(directory.iterdir())
    }


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory):
    """A backup of a small site with the catalog, and a site to restore it into."""
    base = tmp_path_factory.mktemp("backups")
    assert cli(sqlite_env(base / "source"), "catalog", "load").returncode == 0
    result = cli(sqlite_env(base / "source"), "backup", str(base / "good.tar.gz"))
    assert result.returncode == 0, result.stderr
    return base / "good.tar.gz"


def flip(content: bytes) -> bytes:
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :]


BAD = {
    "truncated": (
        lambda good, out: out.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2]),
        "is truncated or damaged",
    ),
    "wrong checksum": (
        lambda good, out: rebuild(
            good, out, members={"shiporskip.sqlite3": flip(member(good, "shiporskip.sqlite3"))}
        ),
        "shiporskip.sqlite3 does not match its checksum",
    ),
    "a member missing": (
        lambda good, out: rebuild(good, out, drop={"queue.sqlite3"}),
        "is truncated: queue.sqlite3 missing",
    ),
    "a member not in the manifest": (
        lambda good, out: rebuild(good, out, members={"extra": b"x"}),
        "'extra', which its manifest does not list",
    ),
    "not a backup: text": (lambda good, out: out.write_text("hello\n"), "not a backup made by"),
    "not a backup: tar without manifest": (
        lambda good, out: rebuild(good, out, drop={"manifest.json"}),
        "not a backup made by",
    ),
    "not a backup: a database": (
        lambda good, out: out.write_bytes(member(good, "shiporskip.sqlite3")),
        "is an SQLite database, not a backup",
    ),
    "newer schema": (
        lambda good, out: rebuild(
            good, out, manifest=lambda m: m["migrations"].append("catalog.9999_from_the_future")
        ),
        "comes from a newer schema",
    ),
    "newer format": (
        lambda good, out: rebuild(good, out, manifest=lambda m: m.update(format_version=99)),
        "made by a newer shiporskip",
    ),
    "another engine": (
        lambda good, out: rebuild(good, out, manifest=lambda m: m.update(engine="postgresql")),
        "is a backup of a PostgreSQL site and this site uses SQLite",
    ),
}


@pytest.fixture(scope="module")
def bad_target(good_backup):
    """A site restored from the good backup: every bad one must leave it as it is."""
    site = good_backup.parent / "target"
    return site, restored_site(site, good_backup)


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_backup_is_refused_and_changes_nothing(kind, good_backup, bad_target, tmp_path):
    make, message = BAD[kind]
    site, before = bad_target
    assert state(site) == before
    bad = tmp_path / "bad.tar.gz"
    make(good_backup, bad)
    result = cli(sqlite_env(site), "restore", str(bad))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert state(site) == before


def test_an_older_backup_is_migrated_and_the_secret_key_only_kept_when_asked(tmp_path):
    old = tmp_path / "old"
    assert cli(sqlite_env(old), "catalog", "load").returncode == 0
    rolled = cli(sqlite_env(old), "manage", "migrate", "panel", "0004", "--verbosity=0")
    assert rolled.returncode == 0, rolled.stderr
    assert cli(sqlite_env(old), "backup", str(tmp_path / "plain.tar.gz")).returncode == 0
    result = cli(sqlite_env(old), "backup", str(tmp_path / "keyed.tar.gz"), "--with-secret-key")
    assert result.returncode == 0, result.stderr
    assert "secret_key" not in names(tmp_path / "plain.tar.gz")
    assert "secret_key" in names(tmp_path / "keyed.tar.gz")

    new = tmp_path / "new"
    result = cli(sqlite_env(new), "restore", str(tmp_path / "keyed.tar.gz"))
    assert result.returncode == 0, result.stderr
    assert "migration(s) applied" in result.stdout
    with opened(new / "shiporskip.sqlite3") as conn:
        applied = {f"{a}.{n}" for a, n in conn.execute("SELECT app, name FROM django_migrations")}
    assert applied == known_migrations()
    assert (new / "secret_key").read_text() == (old / "secret_key").read_text()
    assert (new / "secret_key").stat().st_mode & 0o777 == 0o600
    # Restoring over an existing database keeps the one it replaces, whole, beside it.
    result = cli(sqlite_env(new), "restore", str(tmp_path / "plain.tar.gz"))
    assert result.returncode == 0, result.stderr
    kept = [p for p in new.iterdir() if ".replaced-" in p.name]
    assert len(kept) == 1
    with opened(kept[0]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert cli(sqlite_env(new), "compare", "cursor", "windsurf").returncode == 0


def test_restore_over_a_crashed_site_keeps_its_last_writes_aside(good_backup, tmp_path):
    site = tmp_path / "site"
    restored_site(site, good_backup)
    # A process killed mid-work leaves its last commits in the -wal file, not yet in the database.
    crashed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                "c.execute('PRAGMA wal_autocheckpoint=0'); c.execute('CREATE TABLE last_words (t TEXT)'); "
                "c.execute(\"INSERT INTO last_words VALUES ('committed')\"); print('done', flush=True); "
                "time.sleep(60)"
            ),
            str(site / "shiporskip.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert crashed.stdout.readline().strip() == "done"
    crashed.kill()
    crashed.wait()
    assert Path(f"{site / 'shiporskip.sqlite3'}-wal").stat().st_size > 0

    result = cli(sqlite_env(site), "restore", str(good_backup))
    assert result.returncode == 0, result.stderr
    with opened(site / "shiporskip.sqlite3") as conn:  # the backup's state, not the old WAL's
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'last_words'").fetchall()
    kept = next(p for p in site.iterdir() if p.name.startswith("shiporskip.sqlite3.replaced-"))
    with opened(kept) as conn:  # the replaced database, whole, its last commit included
        assert conn.execute("SELECT t FROM last_words").fetchall() == [("committed",)]


def hold_lock(directory: Path, mode: int) -> int:
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, mode | fcntl.LOCK_NB)
    return fd


def test_restore_and_up_keep_out_of_each_others_way(good_backup, tmp_path):
    site = tmp_path / "site"
    before = restored_site(site, good_backup)
    fd = hold_lock(site, fcntl.LOCK_SH)  # what `up` and `worker` hold while they run
    try:
        result = cli(sqlite_env(site), "restore", str(good_backup))
        assert result.returncode == 2
        assert f"is running on {site}" in result.stderr
        assert state(site) == before
        forced = cli(sqlite_env(site), "restore", str(good_backup), "--force")
        assert forced.returncode == 0, forced.stderr
    finally:
        os.close(fd)

    # A process with the database open (a web server not started by `up`, say) is seen too.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
                "c.execute('SELECT 1 FROM sqlite_master'); print('open', flush=True); time.sleep(60)"
            ),
            str(site / "shiporskip.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = cli(sqlite_env(site), "restore", str(good_backup))
        assert result.returncode == 2
        assert f"process(es) {holder.pid} (" in result.stderr
        assert "have the site's database open" in result.stderr
    finally:
        holder.kill()
        holder.wait()

    fd = hold_lock(site, fcntl.LOCK_EX)  # what `restore` holds while it works
    try:
        result = cli(sqlite_env(site), "up", "--port", str(free_port()))
        assert result.returncode == 2
        assert "a restore into" in result.stderr and "is in progress" in result.stderr
    finally:
        os.close(fd)


def test_backup_refuses_bad_targets(tmp_path):
    site = tmp_path / "site"
    result = cli(sqlite_env(site), "backup", str(tmp_path / "b.tar.gz"))
    assert result.returncode == 2
    assert "there is no database" in result.stderr
    assert cli(sqlite_env(site), "catalog", "load").returncode == 0
    result = cli(sqlite_env(site), "backup", str(tmp_path / "missing" / "b.tar.gz"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    result = cli(sqlite_env(site), "backup", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr


# -- PostgreSQL -----------------------------------------------------------------------------

PG_URL = os.environ.get("DATABASE_URL", "")


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def pg_scratch():
    """Two scratch databases beside the test database, dropped afterwards."""
    if not PG_URL.startswith("postgres"):
        pytest.skip(
            "the PostgreSQL round trip runs with DATABASE_URL=postgres://... (scripts/test's second pass)"
        )
    if not shutil.which("pg_dump") or not shutil.which("pg_restore") or not shutil.which("psql"):
        pytest.skip("pg_dump, pg_restore or psql is not on PATH")
    import psycopg

    base = urlsplit(PG_URL).path.lstrip("/")
    names = [f"{base}_backup_src", f"{base}_backup_restore"]
    admin = psycopg.connect(with_db(PG_URL, "postgres"), autocommit=True)
    for name in names:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield [with_db(PG_URL, name) for name in names]
    for name in names:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def pg_env(url: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return env | {"DATABASE_URL": url, "SHIPORSKIP_DATA_DIR": str(data_dir)}


def test_postgresql_round_trip_with_pg_dump_while_writes_go_on(pg_scratch, tmp_path):
    import psycopg

    source, target = pg_scratch
    data = tmp_path / "data"
    assert cli(pg_env(source, data), "catalog", "load").returncode == 0
    reviewed = cli(pg_env(source, data), "review", "code-llama-4", "mistral-3-small-22b")
    assert reviewed.returncode == 0, reviewed.stderr
    file = tmp_path / "pg.tar.gz"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        env=pg_env(source, data),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    written = Lines(writer)
    try:
        wait_for(lambda: committed(written) >= 20, 60, "the writer's first rows")
        before = committed(written)
        result = cli(pg_env(source, data), "backup", str(file))
        assert result.returncode == 0, result.stderr
    finally:
        stop(writer, signal.SIGKILL)
    assert file.stat().st_mode & 0o777 == 0o600
    assert names(file) == ["manifest.json", "database.pgdump"]

    # Into a fresh database; refused while another connection is open to it.
    other = psycopg.connect(target)
    try:
        result = cli(pg_env(target, tmp_path / "restored"), "restore", str(file))
        assert result.returncode == 2
        assert "other connection(s) are open to the database" in result.stderr
    finally:
        other.close()
    result = cli(pg_env(target, tmp_path / "restored"), "restore", str(file))
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target) as conn:
        ids = writer_ids(conn)
        assert conn.execute("SELECT count(*) FROM catalog_tool").fetchone()[0] == 58
        reviews = conn.execute("SELECT count(*) FROM panel_review").fetchone()[0]
    with psycopg.connect(source) as conn:
        assert reviews == conn.execute("SELECT count(*) FROM panel_review").fetchone()[0] > 0
    assert ids >= set(range(before))
    assert ids == set(range(len(ids)))
    compared = cli(pg_env(target, tmp_path / "restored"), "compare", "code-llama-4", "mistral-3-small-22b")
    assert compared.returncode == 0 and "Builder" in compared.stdout

    # Over a database that has moved on (rows and a table the backup does not know): the
    # backup's state comes back whole, and the newer table goes.
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE from_a_newer_version (id int)")
        conn.execute("DELETE FROM community_vote")
    result = cli(pg_env(target, tmp_path / "restored"), "restore", str(file))
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target) as conn:
        assert writer_ids(conn) == ids
        tables = {t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "from_a_newer_version" not in tables

    # A SQLite site refuses a PostgreSQL backup.
    result = cli(sqlite_env(tmp_path / "sqlite"), "restore", str(file))
    assert result.returncode == 2
    assert "is a backup of a PostgreSQL site and this site uses SQLite" in result.stderr


def test_without_pg_dump_backup_prints_the_commands(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
        "DATABASE_URL": "postgres://verdicts:s3cret@db.example.com:5433/verdicts",
        "SHIPORSKIP_DATA_DIR": str(tmp_path / "data"),
        "PATH": str(tmp_path / "empty"),
    }
    result = cli(env, "backup", str(tmp_path / "b.tar.gz"))
    assert result.returncode == 1
    assert (
        "PGPASSWORD=<the database password> pg_dump --format=custom --no-password "
        f"--file={tmp_path / 'b.tar.gz'} --dbname='host=db.example.com port=5433 user=verdicts "
        "dbname=verdicts'"
    ) in result.stderr
    assert "pg_restore --clean --if-exists --single-transaction" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert not (tmp_path / "b.tar.gz").exists()
