"""What every command group shares: the error a command raises, the parser's class and
argument types, and starting Django. Nothing here imports a command group."""

import argparse
import os
import sys


class CLIError(Exception):
    """A bad argument or input: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def sample_count(text: str) -> int:
    from shiporskip.panel.sampling import MAX_SAMPLES

    if not text.isdigit() or not 1 <= int(text) <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_SAMPLES}")
    return int(text)


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1, e.g. 0.7")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 65535")
    return value


def setup_django() -> None:
    """The start-up step, then Django: the data dir, its key and their modes come first."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
    from shiporskip.conf import data_dir

    keep_data_private(data_dir())
    import django

    django.setup()


def keep_data_private(directory) -> None:
    from shiporskip.conf import prepare_data_dir

    if fixed := prepare_data_dir(directory):
        print(
            f"shiporskip: warning: {len(fixed)} path(s) in {directory} could be read by "
            "other users of this machine (sessions, reset links, the secret key); they are now "
            "owner-only (0700 folders, 0600 files).",
            file=sys.stderr,
        )


def ensure_migrated() -> None:
    """Apply pending migrations first, so any command works on a fresh data dir."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
