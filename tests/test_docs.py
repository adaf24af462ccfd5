"""The README stays true: its settings table and its help text match the code."""

import re
import subprocess
import sys
from pathlib import Path

from shiporskip.conf import DOCUMENTED

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def settings_read_in_code() -> set[str]:
    names = set()
    pattern = re.compile(r"""(?:env_\w+|environ\.get|getenv)\(\s*["']([A-Z_]+)["']""")
    for path in (ROOT / "shiporskip").rglob("*.py"):
        names |= set(pattern.findall(path.read_text()))
    return names


def test_every_setting_read_is_documented_in_code_and_readme():
    read = settings_read_in_code()
    assert read, "the scan found no settings at all"
    assert read <= set(DOCUMENTED), read - set(DOCUMENTED)
    for name in DOCUMENTED:
        assert f"| `{name}` |" in README, f"{name} is missing from the README's table"


def test_readme_help_matches_the_real_help():
    env = {"COLUMNS": "100", "PATH": "/usr/bin:/bin"}
    real = subprocess.run([str(Path(sys.executable).parent / "shiporskip"), "--help"],
                          capture_output=True, text=True, env=env, check=True).stdout
    assert real.strip() in README


def test_readme_gives_the_two_commands():
    assert "```sh\nscripts/up\n```" in README and "```sh\nscripts/test\n```" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci
