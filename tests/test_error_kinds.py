"""A failed run says why by kind, set where the error is raised; its public words follow the kind."""

import ast
from pathlib import Path

import pytest

from shiporskip.panel.backends.base import ErrorKind
from shiporskip.panel.models import PUBLIC_REASONS, PanelRun

ROOT = Path(__file__).resolve().parent.parent / "shiporskip"


def raises_without_kind() -> list[str]:
    """Every `ReviewerError(...)` call in the code that does not pass `kind=`."""
    found = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "ReviewerError"
                and not any(k.arg == "kind" for k in node.keywords)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_reviewer_error_names_its_kind():
    assert raises_without_kind() == []


def test_every_kind_has_public_words_without_details():
    assert set(PUBLIC_REASONS) == set(ErrorKind)
    for reason in PUBLIC_REASONS.values():
        assert "http" not in reason.lower() and "/" not in reason


@pytest.mark.parametrize("kind", ["", "a-kind-from-the-future"])
def test_a_run_without_a_known_kind_reads_as_an_internal_error(kind):
    run = PanelRun(status="failed", error="HTTP 401: the old wording", error_kind=kind)
    assert run.public_reason == "an internal error"  # never guessed from the message
