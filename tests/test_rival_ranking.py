"""Tool.rival_pks ranks a category's tools by their stored features without scoring every row:
it must choose exactly the tools, in exactly the order, that scoring every row chose.

The reference below is the ranking as it was written before (every row's features read into a
Candidate and scored), kept here verbatim as the rule the faster one answers to.
"""

from shiporskip.catalog.facts import ToolFacts
from shiporskip.catalog.list_views import ALTERNATIVES
from shiporskip.catalog.models import PANEL_RIVALS, Tool
from shiporskip.catalog.rivals import Candidate, features, nearest
from tests.scale import bundled_reviewed, grow_reviewed

SIZES = (1, 2, PANEL_RIVALS, 4, ALTERNATIVES, 10_000)


def reference_rival_pks(tool: Tool, n: int) -> list[int]:
    """The ranking before: every same-category row fetched, scored and cut to n."""
    rows = list(
        Tool.objects.filter(category_id=tool.category_id)
        .exclude(pk=tool.pk)
        .order_by()
        .values_list("pk", "name", "rival_features")
    )
    unset = [pk for pk, _, feats in rows if feats is None]
    parsed = (
        {
            pk: features(ToolFacts.model_validate(facts))
            for pk, facts in Tool.objects.filter(pk__in=unset).values_list("pk", "facts")
        }
        if unset
        else {}
    )
    candidates = [Candidate(pk, name, parsed[pk] if feats is None else feats) for pk, name, feats in rows]
    return [c.pk for c in nearest(features(tool.parsed_facts), candidates, n)]


def assert_same_rivals(tools, sizes=SIZES):
    for tool in tools:
        for n in sizes:
            assert tool.rival_pks(n) == reference_rival_pks(tool, n), (tool.slug, n)


def test_every_bundled_tool_gets_the_rivals_scoring_every_row_gave(catalog):
    assert_same_rivals(Tool.objects.all())


def test_a_grown_catalog_with_copies_near_misses_and_unset_features_ranks_as_before(db):
    bundled_reviewed()
    grow_reviewed(700)
    # Copies share their source's features exactly (many ties broken by name); move some a
    # little (close but not equal scores) and leave some unset, as a bulk write would.
    copies = list(Tool.objects.filter(name__contains=" copy ").order_by("pk"))
    for i, tool in enumerate(copies[::7]):
        size = 7 + i % 5 + (i % 3) / 10
        tool.facts = {**tool.facts, "parameters": f"{size}B"}
        tool.save(update_fields=["facts"])
    Tool.objects.filter(pk__in=[t.pk for t in copies[3::11]]).update(rival_features=None)
    bundled = Tool.objects.exclude(name__contains=" copy ")
    assert_same_rivals(bundled)
    assert_same_rivals(Tool.objects.filter(pk__in=[t.pk for t in copies[::5]]), sizes=(PANEL_RIVALS, 4, 12))
