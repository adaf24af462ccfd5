"""The digest's settings: a bad value stops start-up with a message naming the variable."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from shiporskip.conf import env_int, env_zone


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SHIPORSKIP_DIGEST_HOUR", "24", "SHIPORSKIP_DIGEST_HOUR=24 must be at most 23."),
        (
            "SHIPORSKIP_DIGEST_TIMEZONE",
            "Mars/Base",
            "SHIPORSKIP_DIGEST_TIMEZONE='Mars/Base' is not a time zone",
        ),
        (
            "SHIPORSKIP_DIGEST_WEEKDAY",
            "monday",
            "SHIPORSKIP_DIGEST_WEEKDAY='monday' must be one of: mon, tue",
        ),
        ("SHIPORSKIP_DIGEST_RATE", "fast", "SHIPORSKIP_DIGEST_RATE='fast' is not a number."),
    ],
)
def test_a_bad_value_stops_the_cli_naming_the_variable(tmp_path, name, value, message):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"SHIPORSKIP_DATA_DIR": str(tmp_path), name: value}
    result = subprocess.run(
        [sys.executable, "-m", "shiporskip.cli", "digest", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_readers_accept_good_values(monkeypatch):
    monkeypatch.setenv("TZ_SETTING", "Europe/Paris")
    assert env_zone("TZ_SETTING", "UTC") == "Europe/Paris"
    monkeypatch.setenv("HOUR_SETTING", "23")
    assert env_int("HOUR_SETTING", 9, maximum=23) == 23
    monkeypatch.setenv("TZ_SETTING", "../../etc/passwd")
    with pytest.raises(ImproperlyConfigured, match="TZ_SETTING"):
        env_zone("TZ_SETTING", "UTC")
