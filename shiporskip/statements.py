"""What plain SQL may rely on, on either database (the hot paths that skip the ORM)."""

from django.db import connection


def client_side_binding() -> bool:
    """Whether one execute() may hold several statements: on PostgreSQL unless the database's
    OPTIONS turn on psycopg's server-side binding, whose prepared statements take one. Such an
    execute() is one round trip, in one transaction when none is open."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and options.get("server_side_binding") is not True
