"""The site's data in one file: what `shiporskip backup FILE` and `shiporskip restore FILE`
(`cli/backup.py`) run.

A backup is a gzipped tar: `manifest.json` first (format version, when, which versions made
it, the schema's applied migrations, each file's size and SHA-256), then the files. On SQLite
those are consistent snapshots of the database and the queue, taken while the site runs and
takes writes; on PostgreSQL, a `pg_dump --format=custom` archive. The secret key is left out
unless asked for: it signs sessions and password-reset links, so a backup holding it lets
whoever reads the backup forge them; without it, a restored site makes a new key and readers
simply sign in again.

A restore checks everything before it touches the site (the manifest, every checksum, SQLite's
integrity check, that the backup's schema is not newer than this code) and refuses while the
site's web server or worker run on the data dir; then it swaps the files in with a rename (on
PostgreSQL: one transaction) and migrates, so an older backup is brought up to date. A restore
cut off at any point leaves either the old database or the new one, never a mix.
"""

import contextlib
import datetime
import fcntl
import gzip
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

from shiporskip.conf import setting

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper

FORMAT = "shiporskip-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PG_DUMP_MEMBER = "database.pgdump"
# Held shared by `up` and `worker` for as long as they run, exclusively by `restore`: the
# kernel drops a flock when its process dies, so a crash never leaves a stale lock behind.
LOCK_FILE = "shiporskip.lock"
STEP_PAGES = 1024  # pages copied per backup step (4 MiB at SQLite's default page size)


class BackupError(Exception):
    """A backup or restore refused, with what to do: the command shows it as its error."""


def fail(message: str) -> NoReturn:
    raise BackupError(message)


# -- the site's lock ------------------------------------------------------------------------


def _lock(directory: Path, mode: int) -> int | None:
    """Take the data dir's lock without waiting; return its descriptor, or None if held."""
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def site_in_use(directory: Path | None = None):
    """Mark the site as running on its data dir while the block runs (`up`, `worker`)."""
    directory = directory or _settings().DATA_DIR
    fd = _lock(directory, fcntl.LOCK_SH)
    if fd is None:
        fail(f"a restore into {directory} is in progress: start the site when it has finished")
    try:
        yield
    finally:
        os.close(fd)


def processes_using(paths: list[Path]) -> list[int]:
    """Other processes holding any of these files open (Linux /proc; same user, or root)."""
    targets = {os.path.realpath(p) for p in paths if p.exists()}
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        if int(entry.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in targets for fd in (entry / "fd").iterdir()):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or another user's process
            continue
    return sorted(found)


# -- the manifest ---------------------------------------------------------------------------


@dataclass
class Member:
    name: str  # its name in the archive
    role: str  # database, queue or secret_key
    path: Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_for(*, engine: str, migrations: list[str], members: list[Member], extra: dict) -> dict:
    import django

    from shiporskip import __version__

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "versions": {
            "shiporskip": __version__,
            "django": django.get_version(),
            "python": platform.python_version(),
            **extra.pop("versions", {}),
        },
        "migrations": sorted(migrations),
        "files": {
            m.name: {"role": m.role, "size": m.path.stat().st_size, "sha256": sha256_of(m.path)}
            for m in members
        },
        **extra,
    }


def known_migrations() -> set[str]:
    """Every migration this version of the code has on disk, as `app.name`."""
    from django.db.migrations.loader import MigrationLoader

    return {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}


# -- writing a backup -----------------------------------------------------------------------


def backup(target: str, *, with_secret_key: bool = False) -> int:
    settings = _settings()
    path = Path(target).expanduser().absolute()
    if path.is_dir():
        fail(f"{target} is a directory: give a file name, e.g. {Path(target) / 'shiporskip.tar.gz'}")
    if not path.parent.is_dir():
        fail(f"{path.parent} does not exist: create it first")
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".backup-") as work:
        if _engine() == "postgresql":
            members, extra, migrations = _dump_postgresql(Path(work), path)
            if members is None:
                return 1
        else:
            members, extra, migrations = _snapshot_sqlite(Path(work))
        if with_secret_key:
            members += _secret_key_member()
        manifest = manifest_for(engine=_engine(), migrations=migrations, members=members, extra=extra)
        _write_archive(path, manifest, members)
    size = path.stat().st_size
    print(
        f"backup: {path} ({_human(size)}): "
        + ", ".join(f"{m.name} ({m.role})" for m in members)
        + f"; {len(migrations)} migrations applied"
    )
    if not with_secret_key:
        print(
            "backup: the secret key is not in it (pass --with-secret-key to keep sessions "
            "valid across a restore on another machine)"
        )
    if manifest.get("queue") == "redis":
        print(
            "backup: the queue is in Redis and is not in the backup; the worker queues "
            "unfinished panel runs again by itself"
        )
    return 0


def _snapshot_sqlite(work: Path) -> tuple[list[Member], dict, list[str]]:
    settings = _settings()
    database = Path(settings.DATABASES["default"]["NAME"])
    if not database.exists():
        fail(f"there is no database at {database} yet: nothing to back up")
    members = [Member(database.name, "database", work / database.name)]
    snapshot(database, members[0].path)
    queue = Path(settings.HUEY["filename"]) if "filename" in settings.HUEY else None
    if queue and queue.exists():
        members.append(Member(queue.name, "queue", work / queue.name))
        snapshot(queue, members[1].path)
    with contextlib.closing(sqlite3.connect(members[0].path)) as conn:
        migrations = [
            f"{app}.{name}" for app, name in conn.execute("SELECT app, name FROM django_migrations")
        ]
        tables = _table_rows(conn)
    extra = {
        "versions": {"sqlite": sqlite3.sqlite_version},
        "tables": tables,
        "queue": "sqlite" if len(members) > 1 else ("redis" if settings.REDIS_URL else "empty"),
    }
    return members, extra, migrations


def snapshot(source: Path, target: Path) -> None:
    """Copy a live SQLite database to `target` as one consistent, self-contained file.

    The copy runs in steps (for the progress bar, and so the web server and worker are never
    held up) inside one read transaction on the source. In WAL mode that transaction pins one
    snapshot: writers go on appending to the WAL, and every step copies the same state. (With
    the steps each in their own transaction, a write between two steps would restart the
    copy, and a busy site could keep it restarting forever.)
    """
    from tqdm import tqdm

    src = sqlite3.connect(source, isolation_level=None, timeout=20)
    dst = sqlite3.connect(target)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # starts the read
        page_size = src.execute("PRAGMA page_size").fetchone()[0]
        # tqdm shows a bar on a terminal and stays silent in cron (disable=None).
        with tqdm(total=None, unit="B", unit_scale=True, desc=source.name, disable=None, leave=False) as bar:

            def progress(status, remaining, total):
                bar.total = total * page_size
                bar.n = (total - remaining) * page_size
                bar.refresh()

            src.backup(dst, pages=STEP_PAGES, progress=progress)
        src.execute("COMMIT")
        # One file, no -wal beside it; the site switches it back to WAL when it opens it.
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            fail(f"{source} fails SQLite's check ({check}); the backup was not written")
    finally:
        src.close()
        dst.close()


def _table_rows(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        n
        for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # noqa: S608


def _secret_key_member() -> list[Member]:
    settings = _settings()
    if setting("SHIPORSKIP_SECRET_KEY"):
        print(
            "backup: the secret key comes from SHIPORSKIP_SECRET_KEY, not the data dir: keep "
            "it with the rest of your environment; it is not in the backup",
            file=sys.stderr,
        )
        return []
    return [Member("secret_key", "secret_key", settings.DATA_DIR / "secret_key")]


def _write_archive(path: Path, manifest: dict, members: list[Member]) -> None:
    """Write the archive beside `path` (mode 0600), then rename it into place."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                data = json.dumps(manifest, indent=2).encode()
                _add(tar, MANIFEST, io.BytesIO(data), len(data))
                for member in members:
                    with open(member.path, "rb") as file:
                        _add(tar, member.name, file, member.path.stat().st_size)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(draft, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(draft)
        raise
    _fsync_dir(path.parent)


def _add(tar: tarfile.TarFile, name: str, file, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.datetime.now().timestamp())
    tar.addfile(info, file)


# -- PostgreSQL -----------------------------------------------------------------------------


def _pg_env_and_conninfo() -> tuple[dict, str]:
    """libpq's environment (the password stays out of argv and `ps`) and a conninfo string."""
    db = _settings().DATABASES["default"]
    parts = {"host": db.get("HOST"), "port": db.get("PORT"), "user": db.get("USER"), "dbname": db.get("NAME")}
    parts |= {
        k: v
        for k, v in (db.get("OPTIONS") or {}).items()
        if k.startswith("ssl") or k in {"options", "application_name"}
    }
    conninfo = " ".join(f"{k}={_conn_quote(str(v))}" for k, v in parts.items() if v)
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env, conninfo


def _conn_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "._-/:@" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pg_password_hint() -> str:
    return "PGPASSWORD=<the database password> " if _settings().DATABASES["default"].get("PASSWORD") else ""


def _dump_postgresql(work: Path, target: Path):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    env, conninfo = _pg_env_and_conninfo()
    if not shutil.which("pg_dump"):
        print(
            "backup: pg_dump is not on PATH. Install PostgreSQL's client tools (Debian: apt "
            "install postgresql-client, the same major version as the server), or run where "
            "they are:\n"
            f"  {_pg_password_hint()}pg_dump --format=custom --no-password "
            f"--file={shlex.quote(str(target))} --dbname={shlex.quote(conninfo)}\n"
            "and restore that file with:\n"
            f"  {_pg_password_hint()}pg_restore --clean --if-exists --single-transaction "
            f"--no-owner --no-privileges --dbname={shlex.quote(conninfo)} FILE\n"
            "  shiporskip manage migrate",
            file=sys.stderr,
        )
        return None, None, None
    # The schema is read just before the dump: a migration would have to run in between for
    # the two to differ, and `up` and `migrate` are not run during a backup.
    migrations = [f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()]
    dump = work / PG_DUMP_MEMBER
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--no-password", f"--file={dump}", f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        fail(f"pg_dump failed: {result.stderr.strip()[-500:]}")
    # `connection` is typed as any backend's; this one is PostgreSQL's, which knows its server.
    server = cast("PostgreSQLWrapper", connection).pg_version  # e.g. 150020 for 15.20
    extra = {
        "versions": {"postgresql": f"{server // 10000}.{server % 10000}"},
        "queue": "redis" if _settings().REDIS_URL else "none (PostgreSQL without Redis)",
    }
    return [Member(PG_DUMP_MEMBER, "database", dump)], extra, migrations


# -- restoring ------------------------------------------------------------------------------


def restore(source: str, *, force: bool = False) -> int:
    settings = _settings()
    path = Path(source).expanduser()
    if not path.is_file():
        fail(f"{source}: no such file")
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".restore-") as work:
        manifest, files = read_backup(path, Path(work))
        _check_compatible(manifest, source)
        if manifest["engine"] == "postgresql" and not _pg_restore_tools(path):
            return 1
        lock = _lock(settings.DATA_DIR, fcntl.LOCK_EX)
        try:
            if not force:
                _refuse_if_running(lock is not None)
            if manifest["engine"] == "postgresql":
                _restore_postgresql(files[PG_DUMP_MEMBER])
            else:
                _restore_sqlite(manifest, files)
            if "secret_key" in files:
                _put_secret_key(files["secret_key"])
            applied = _migrate()
        finally:
            if lock is not None:
                os.close(lock)
    made = manifest["created_at"]
    tables = manifest.get("tables") or {}
    rows = f", {sum(tables.values())} rows in {len(tables)} tables" if tables else ""
    print(f"restore: the site's data is now the backup made {made}{rows}")
    if applied:
        print(f"restore: {applied} migration(s) applied to bring it up to this version")
    return 0


def read_backup(path: Path, work: Path) -> tuple[dict, dict[str, Path]]:
    """Read and check a backup into `work`: its manifest, and each file verified by checksum."""
    with open(path, "rb") as file:
        head = file.read(16)
    if head.startswith(b"SQLite format 3"):
        fail(f"{path} is an SQLite database, not a backup made by `shiporskip backup`")
    if head.startswith(b"PGDMP"):
        fail(
            f"{path} is a pg_dump archive, not a backup made by `shiporskip backup`: restore it "
            "with `pg_restore --clean --if-exists --single-transaction --no-owner --dbname=... "
            "FILE`, then `shiporskip manage migrate`"
        )
    try:
        tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by the `with tar` below
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile):
        fail(f"{path} is not a backup made by `shiporskip backup` (not a .tar.gz archive)")
    try:
        with tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                fail(f"{path} is not a backup made by `shiporskip backup` (it has no {MANIFEST})")
            member = tar.extractfile(first)
            assert member is not None  # a regular file (checked above) always opens
            manifest = _parse_manifest(member.read(), path)
            files = {}
            while (info := tar.next()) is not None:
                expected = manifest["files"].get(info.name)
                if expected is None or not info.isfile() or info.name in files:
                    fail(
                        f"{path} holds {info.name!r}, which its manifest does not list: "
                        "it is damaged or not what `shiporskip backup` wrote"
                    )
                files[info.name] = _extract(tar, info, expected, work, path)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        fail(f"{path} is truncated or damaged ({exc}); nothing was restored")
    except OSError as exc:
        fail(f"could not read {path} or unpack it under {work} ({exc}); nothing was restored")
    if missing := sorted(set(manifest["files"]) - set(files)):
        fail(f"{path} is truncated: {', '.join(missing)} missing; nothing was restored")
    return manifest, files


def _parse_manifest(data: bytes, path: Path) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        fail(f"{path} is not a backup made by `shiporskip backup` (its {MANIFEST} is not ours)")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        fail(f"{path}: its {MANIFEST} has no format version")
    if version > FORMAT_VERSION:
        fail(
            f"{path} was made by a newer shiporskip (backup format {version}; this version reads "
            f"format {FORMAT_VERSION}): upgrade shiporskip, then restore"
        )
    files = manifest.get("files")
    if (
        not isinstance(files, dict)
        or not all(
            isinstance(f, dict)
            and isinstance(f.get("size"), int)
            and isinstance(f.get("sha256"), str)
            and f.get("role") in {"database", "queue", "secret_key"}
            for f in files.values()
        )
        or manifest.get("engine") not in {"sqlite", "postgresql"}
        or not isinstance(manifest.get("migrations"), list)
        or "created_at" not in manifest
    ):
        fail(f"{path}: its {MANIFEST} is incomplete (files, engine, migrations, created_at)")
    if sum(f["role"] == "database" for f in files.values()) != 1:
        fail(f"{path}: its {MANIFEST} lists no database")
    return manifest


def _extract(tar, info, expected: dict, work: Path, path: Path) -> Path:
    if "/" in info.name or info.name.startswith("."):
        fail(f"{path} holds a file named {info.name!r}: not what `shiporskip backup` wrote")
    out = work / info.name
    digest, size = hashlib.sha256(), 0
    source = tar.extractfile(info)
    with open(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            file.write(chunk)
        file.flush()
        os.fsync(file.fileno())
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        fail(
            f"{path}: {info.name} does not match its checksum in the manifest (the file was "
            "changed or damaged); nothing was restored"
        )
    return out


def _check_compatible(manifest: dict, source: str) -> None:
    engine = _engine()
    if manifest["engine"] != engine:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        fail(
            f"{source} is a backup of a {names[manifest['engine']]} site and this site uses "
            f"{names[engine]}: restore it with the same database engine "
            f"({'set DATABASE_URL' if manifest['engine'] == 'postgresql' else 'unset DATABASE_URL'})"
        )
    newer = sorted(set(manifest["migrations"]) - known_migrations())
    if newer:
        made_by = manifest.get("versions", {}).get("shiporskip", "a newer version")
        fail(
            f"{source} comes from a newer schema than this version of shiporskip knows "
            f"({', '.join(newer[:3])}{' ...' if len(newer) > 3 else ''}): install shiporskip "
            f"{made_by} or later, then restore; nothing was changed"
        )


def _refuse_if_running(got_lock: bool) -> None:
    settings = _settings()
    hint = "stop it first (or pass --force if you are sure it is stopped)"
    if not got_lock:
        fail(f"the site (`shiporskip up` or `worker`) is running on {settings.DATA_DIR}: {hint}")
    if _engine() == "sqlite":
        database = Path(settings.DATABASES["default"]["NAME"])
        paths = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        if "filename" in settings.HUEY:
            paths.append(Path(settings.HUEY["filename"]))
        if pids := processes_using(paths):
            fail(
                f"process(es) {', '.join(f'{pid} ({_command(pid)})' for pid in pids)} have the "
                f"site's database open (its web server or worker?): {hint}"
            )
    else:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            others = cursor.fetchone()[0]
        connection.close()
        if others:
            fail(
                f"{others} other connection(s) are open to the database (the site's web server "
                f"or worker?): {hint}"
            )


def _command(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(w.decode(errors="replace") for w in words if w)[:80]


def _restore_sqlite(manifest: dict, files: dict[str, Path]) -> None:
    settings = _settings()
    targets = {"database": Path(settings.DATABASES["default"]["NAME"])}
    if "filename" in settings.HUEY:
        targets["queue"] = Path(settings.HUEY["filename"])
    for name, extracted in files.items():
        role = manifest["files"][name]["role"]
        if role in targets:
            with contextlib.closing(sqlite3.connect(extracted)) as conn:
                check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                fail(f"{name} in the backup fails SQLite's integrity check ({check}); nothing was restored")
    from django.db import connections

    connections.close_all()
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    # The database first: it is what matters, and the queue only names runs that the worker
    # claims by their state in the database, so a queue left from before is harmless.
    for role in ("database", "queue"):
        restored = next((n for n, f in manifest["files"].items() if f["role"] == role), None)
        if restored is None or role not in targets:
            continue
        target = targets[role]
        if target.exists():
            whole = _settle(target)
            if role == "database":  # kept until the publisher deletes it: a restore is undoable
                kept = target.with_name(f"{target.name}.replaced-{stamp}")
                _keep(target, kept)
                if not whole and Path(f"{target}-wal").exists():  # a damaged file keeps its WAL
                    os.replace(f"{target}-wal", f"{kept}-wal")
                print(
                    f"restore: the database it replaces is kept as {kept} (delete it when you are satisfied)"
                )
        os.replace(files[restored], target)
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
            stale.unlink(missing_ok=True)
        _fsync_dir(target.parent)


def _settle(database: Path) -> bool:
    """Fold the database's WAL into it and drop the WAL; False if the old file is damaged.

    A -wal file left beside the new database would be replayed into it on the next open and
    corrupt it; folding it in first also leaves the old file whole, for the copy kept aside.
    """
    try:
        with contextlib.closing(sqlite3.connect(database, isolation_level=None, timeout=5)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            fail(f"{database} is in use ({exc}): is the site still running? Nothing was restored")
        return False
    except sqlite3.DatabaseError:  # damaged: the very case a restore is for; it is kept as it is
        return False
    return True


def _keep(current: Path, kept: Path) -> None:
    try:
        os.link(current, kept)  # no copy: the old file lives on under a second name
    except OSError:
        shutil.copy2(current, kept)


def _pg_restore_tools(source: Path) -> bool:
    """True if pg_restore and psql are on PATH; else print the commands to run by hand."""
    missing = [tool for tool in ("pg_restore", "psql") if not shutil.which(tool)]
    if missing:
        _, conninfo = _pg_env_and_conninfo()
        print(
            f"restore: {' and '.join(missing)} not on PATH. Install PostgreSQL's client tools "
            "(Debian: apt install postgresql-client), or, with the site stopped, run where "
            "they are:\n"
            f"  tar -xzf {shlex.quote(str(source))} {PG_DUMP_MEMBER}\n"
            f"  {_pg_password_hint()}pg_restore --clean --if-exists --single-transaction "
            f"--no-owner --no-privileges --dbname={shlex.quote(conninfo)} {PG_DUMP_MEMBER}\n"
            "  shiporskip manage migrate",
            file=sys.stderr,
        )
    return not missing


def _restore_postgresql(dump: Path) -> None:
    env, conninfo = _pg_env_and_conninfo()
    from django.db import connections

    connections.close_all()
    script = dump.with_suffix(".sql")
    result = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        fail(f"pg_restore could not read the dump: {result.stderr.strip()[-500:]}; nothing was restored")
    # Every table goes first, not only those in the dump (what pg_restore --clean drops): a
    # site migrated past the backup has tables the dump lacks, and `migrate` would then trip
    # on them. Dropping and restoring run in one transaction: all of it, or none.
    drop = dump.with_name("drop.sql")
    drop.write_text(
        "DO $$ DECLARE t record; BEGIN\n"
        "  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP\n"
        "    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', t.tablename);\n"
        "  END LOOP;\n"
        # The site's own trigger functions too (the dump creates them again); an extension's
        # functions (pg_trgm's) stay with their extension.
        "  FOR t IN SELECT p.oid::regprocedure AS sig FROM pg_proc p\n"
        "      JOIN pg_namespace n ON n.oid = p.pronamespace\n"
        "      WHERE n.nspname = current_schema() AND NOT EXISTS (\n"
        "        SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP\n"
        "    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', t.sig);\n"
        "  END LOOP;\nEND $$;\n"
    )
    result = subprocess.run(
        [
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={conninfo}",
            f"--file={drop}",
            f"--file={script}",
        ],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        fail(f"the restore failed and was rolled back, nothing changed: {result.stderr.strip()[-500:]}")


def _put_secret_key(extracted: Path) -> None:
    settings = _settings()
    os.replace(extracted, settings.DATA_DIR / "secret_key")  # extracted 0600, same file system
    _fsync_dir(settings.DATA_DIR)
    if setting("SHIPORSKIP_SECRET_KEY"):
        print(
            "restore: the backup's secret key is in the data dir, but SHIPORSKIP_SECRET_KEY is "
            "set and wins over it",
            file=sys.stderr,
        )


def _migrate() -> int:
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.migrations.executor import MigrationExecutor

    connections.close_all()  # a fresh connection sees the restored database, not the old file
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()
    return len(plan)


# -- small helpers --------------------------------------------------------------------------


def _settings():
    from django.conf import settings

    return settings


def _engine() -> str:
    vendor = _settings().DATABASES["default"]["ENGINE"]
    return "postgresql" if "postgresql" in vendor else "sqlite"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _human(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
