"""The comparison sitemap's pairs, cut by arithmetic (sharing/pairs.py): every pair once, in
order, whatever the page size, and each slice reading only the tools it names."""

import itertools

from shiporskip.catalog.models import Tool
from shiporskip.sharing.pairs import Pairs, pair_at, runs


def test_pair_numbers_walk_each_category_row_by_row():
    for n in range(2, 40):
        every = list(itertools.combinations(range(n), 2))
        assert [pair_at(k, n) for k in range(len(every))] == every


def test_a_slice_reads_the_positions_it_names_and_about_twice_its_length_at_most():
    for n in range(2, 40):
        every = list(itertools.combinations(range(n), 2))
        for a, b in itertools.combinations_with_replacement(range(0, len(every), 3), 2):
            named = {p for pair in every[a : b + 1] for p in pair}
            read = {p for lo, hi in runs(every[a], every[b], n) for p in range(lo, hi + 1)}
            assert named <= read
            assert len(read) <= 2 * (b - a + 1) + 2


def test_pages_of_any_size_list_every_reviewed_pair_once_in_order(reviewed):
    reviewed = list(
        Tool.objects.reviewed().order_by("category_id", "slug").values_list("category_id", "slug")
    )
    expected = [
        (a, b)
        for _, group in itertools.groupby(reviewed, key=lambda r: r[0])
        for (_, a), (_, b) in itertools.combinations(list(group), 2)
    ]
    pairs = Pairs()
    assert len(pairs) == len(expected) > 0
    for size in (1, 7, 40, len(expected)):
        got = [p for start in range(0, len(pairs), size) for p in pairs[start : start + size]]
        assert [(a, b) for a, b, _ in got] == expected
        assert all(at is not None for _, _, at in got)
