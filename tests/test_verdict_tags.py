"""`{% verdict %}` and `|whole` write what the template markup they replace wrote, byte for byte."""

import random

from django.template import Context, Template

from shiporskip.catalog.tallies import PanelTally

# The markup the tags replaced: the verdict partial and the score filter as they were.
BADGE = (
    "{% with t=tally %}<span class=\"verdict verdict-{{ t.verdict|default:'none'|lower }}\">"
    "{{ t.label }}</span>{% endwith %}"
)


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_verdict_tag_writes_the_badge_the_template_wrote():
    for ship in range(4):
        for skip in range(4):
            tally = PanelTally(ship=ship, skip=skip)
            ours = render("{% load verdicts %}{% verdict tally %}", tally=tally)
            assert ours == render(BADGE, tally=tally)
    assert render("{% load verdicts %}{% verdict t %}", t=PanelTally(3, 1)) == (
        '<span class="verdict verdict-ship">Ship · 3 ship / 1 skip</span>'
    )


def test_whole_rounds_as_floatformat_0_does():
    values = [0, 0.5, 1.5, 2.5, 72.5, 72.49999, 99.999, 100, -0.4, -0.5, -2.5, 1e-9, 12345.5, "7.5", 7]
    rng = random.Random(1)
    values += [rng.uniform(0, 100) for _ in range(2000)]
    values += [rng.randint(0, 400) / 4 for _ in range(500)]  # means of four whole scores
    for value in values:
        ours = render("{% load verdicts %}{{ v|whole }}", v=value)
        assert ours == render("{{ v|floatformat:0 }}", v=value), value
    assert render("{% load verdicts %}{{ v|whole }}", v=None) == ""
