import pytest
from django.core.exceptions import ValidationError

from shiporskip.catalog.loading import CatalogError, load_bundled, load_catalog
from shiporskip.catalog.models import Category, Tool
from tests.conftest import tool_entry

CATEGORY = {"slug": "open-weight-models", "name": "Open-Weight Models"}


def test_bundled_catalog_has_enough_real_tools(db):
    result = load_bundled()
    assert result.created >= 30
    assert Category.objects.count() >= 5
    for tool in Tool.objects.all():
        facts = tool.parsed_facts
        assert facts.facts_as_of and facts.sources, tool.slug


def test_bundled_catalog_holds_the_seed_page_tools_with_its_facts(db):
    load_bundled()
    llama = Tool.objects.get(slug="code-llama-4")
    mistral = Tool.objects.get(slug="mistral-3-small-22b")
    assert llama.category.name == mistral.category.name == "Developer Tools"
    assert llama.best_for == ("Meta's open-weight code model fine-tuned for agentic, multi-step workflows")
    assert mistral.best_for == "Open-weight 22B model for edge and consumer hardware inference"
    assert llama.pricing == "Free (open weights under Llama 4 community license)"
    assert mistral.pricing == "Free (Apache 2.0 open weights on Hugging Face)"
    assert llama.entry_price == mistral.entry_price == "Free"
    assert llama.facts["parameters"] == "up to 70B" and mistral.facts["parameters"] == "22B"


def test_loading_twice_is_an_idempotent_upsert(db):
    first = load_bundled()
    again = load_bundled()
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)


def test_a_changed_entry_updates_by_slug(db):
    load_catalog({"categories": [CATEGORY], "tools": [tool_entry("Alpha")]})
    result = load_catalog({"tools": [tool_entry("Alpha", pricing="$5/month")]})
    assert (result.created, result.updated) == (0, 1)
    assert Tool.objects.get(slug="alpha").pricing == "$5/month"


def test_a_bad_entry_anywhere_changes_nothing(db):
    bad = tool_entry("Broken", facts={"kind": "spaceship"})
    with pytest.raises(CatalogError) as exc:
        load_catalog({"categories": [CATEGORY], "tools": [tool_entry("Good"), bad]})
    assert "tools[1] (Broken)" in str(exc.value) and "facts.kind" in str(exc.value)
    assert not Tool.objects.exists() and not Category.objects.exists()


def test_unknown_category_is_named(db):
    with pytest.raises(CatalogError, match="unknown category `nowhere`"):
        load_catalog({"tools": [tool_entry("Lost", category="nowhere")]})


def test_duplicate_slugs_in_one_file_are_refused(db):
    with pytest.raises(CatalogError, match="appears twice"):
        load_catalog({"categories": [CATEGORY], "tools": [tool_entry("Same Name"), tool_entry("same name")]})


def test_model_clean_refuses_malformed_facts(db):
    category = Category.objects.create(name="X", slug="x")
    tool = Tool(name="Bad", category=category, facts={"kind": "app"})
    with pytest.raises(ValidationError) as exc:
        tool.full_clean()
    assert "facts.sources" in str(exc.value)


def test_a_category_name_taken_by_another_slug_is_refused(db):
    load_catalog({"categories": [CATEGORY], "tools": []})
    with pytest.raises(CatalogError, match="belongs to category `open-weight-models`"):
        load_catalog({"categories": [{"slug": "other", "name": "Open-Weight Models"}], "tools": []})
