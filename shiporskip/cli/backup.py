"""`shiporskip backup FILE` and `shiporskip restore FILE`: the command-line part; the work is
in `shiporskip/backup.py`, whose BackupError is shown as any other command's error."""

from shiporskip.cli.base import CLIError


def add_parsers(sub) -> None:
    backup = sub.add_parser(
        "backup",
        help="copy the database (and queue) into one file, while the site runs",
        description="Write the site's data into FILE (a .tar.gz with a manifest), atomically and "
        "readable by you only. SQLite: consistent snapshots of the database and the queue, taken "
        "while the site runs. PostgreSQL: pg_dump --format=custom.",
    )
    backup.add_argument("file", metavar="FILE", help="where to write it, e.g. shiporskip-2026-05-01.tar.gz")
    backup.add_argument(
        "--with-secret-key",
        action="store_true",
        help="include the secret key (it signs sessions and reset links: whoever "
        "reads the backup could forge them); without it, readers sign in again "
        "after a restore elsewhere",
    )
    restore = sub.add_parser(
        "restore",
        help="replace the site's data with a backup, then migrate",
        description="Check FILE (manifest, checksums, schema) and replace the site's database "
        "with it in one step, then apply migrations. Refuses while the site runs on the data dir.",
    )
    restore.add_argument("file", metavar="FILE", help="a file made by `shiporskip backup`")
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore even if the site seems to be running (only if you are sure it is not)",
    )


def cmd_backup(args) -> int:
    from shiporskip.backup import BackupError, backup

    try:
        return backup(args.file, with_secret_key=args.with_secret_key)
    except BackupError as exc:
        raise CLIError(str(exc)) from None


def cmd_restore(args) -> int:
    from shiporskip.backup import BackupError, restore

    try:
        return restore(args.file, force=args.force)
    except BackupError as exc:
        raise CLIError(str(exc)) from None
