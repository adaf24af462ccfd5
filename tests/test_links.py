"""slug_url() and slug_urls() answer what reverse() does, under any script prefix."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from shiporskip.links import slug_url, slug_urls

VIEWS = ["catalog:tool", "catalog:category", "catalog:alternatives", "panel:persona"]


@pytest.mark.parametrize("prefix", ["/", "/sub/", "/a b/", "/slug-placeholder-0/", "/slug-to-fill/"])
def test_slug_url_is_reverse(prefix):
    set_script_prefix(prefix)
    try:
        for view in VIEWS:
            page_url = slug_urls(view)
            for slug in ["cursor", "llama-cpp", "a_b-9", "slug-placeholder-0", "X"]:
                assert slug_url(view, slug) == reverse(view, args=[slug])
                assert page_url(slug) == reverse(view, args=[slug])
    finally:
        clear_script_prefix()


def test_other_values_go_through_reverse():
    with pytest.raises(Exception, match="Reverse"):
        slug_url("catalog:tool", "not a slug")  # as reverse() refuses it
