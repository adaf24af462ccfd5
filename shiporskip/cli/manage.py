"""`shiporskip manage ...`: any Django management command (e.g. createsuperuser)."""

import argparse


def add_parser(sub) -> None:
    manage = sub.add_parser("manage", help="run a Django management command (e.g. createsuperuser)")
    manage.add_argument("args", nargs=argparse.REMAINDER)


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shiporskip manage", *args.args])
    return 0
