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
    pattern = re.compile(r"""(?:setting|env_\w+|environ\.get|getenv)\(\s*["']([A-Z_]+)["']""")
    for path in (ROOT / "shiporskip").rglob("*.py"):
        names |= set(pattern.findall(path.read_text()))
    return names


def test_only_the_settings_table_reads_the_environment():
    """Settings and providers ask conf.setting(): a raw read would skip the table's type,
    default and documentation (and this README check)."""
    raw = re.compile(r"""(?:environ\.get|getenv)\(\s*["']([A-Z_]+)["']""")
    found = {
        str(path.relative_to(ROOT)): raw.findall(path.read_text())
        for path in (ROOT / "shiporskip").rglob("*.py")
        if path.name != "conf.py"
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_every_setting_read_is_documented_in_code_and_readme():
    read = settings_read_in_code()
    assert read, "the scan found no settings at all"
    assert read <= set(DOCUMENTED), read - set(DOCUMENTED)
    for name in DOCUMENTED:
        assert f"| `{name}` |" in README, f"{name} is missing from the README's table"


def test_every_provider_variable_is_in_the_table():
    from shiporskip.panel.backends.openai_compat import OpenAICompatible

    for provider in [OpenAICompatible, *OpenAICompatible.__subclasses__()]:
        assert {provider.base_url_env, provider.key_env} - {None} <= set(DOCUMENTED), provider


def test_readme_links_stay_inside_the_repository():
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    local = [link for link in links if "://" not in link and not link.startswith(("#", "mailto:"))]
    for link in local:
        target = (ROOT / link.split("#")[0]).resolve()
        assert target.is_relative_to(ROOT) and target.exists(), link


def test_readme_help_matches_the_real_help():
    env = {"COLUMNS": "100", "PATH": "/usr/bin:/bin"}
    real = subprocess.run(
        [str(Path(sys.executable).parent / "shiporskip"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert real.strip() in README


def test_readme_gives_the_two_commands():
    assert "```sh\nscripts/up\n```" in README and "```sh\nscripts/test\n```" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci
