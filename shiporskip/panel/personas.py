"""Persona specs: validated on the way in, upserted by key."""

from importlib import resources
from pathlib import Path

import yaml
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shiporskip import control_chars
from shiporskip.catalog.facts import describe_errors
from shiporskip.panel.models import Persona

BUNDLED_PERSONAS = resources.files("shiporskip.panel") / "data" / "personas.yaml"
KEY = r"^[a-z][a-z0-9_]*$"


class PersonaError(ValueError):
    pass


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    question: str = Field(min_length=1)


class Anchors(BaseModel):
    """What a sub-score of 20, 50 and 80 means: the scale an LLM reviewer is held to."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)
    low: str = Field(min_length=1, alias="20")
    mid: str = Field(min_length=1, alias="50")
    high: str = Field(min_length=1, alias="80")

    @model_validator(mode="before")
    @classmethod
    def text_keys(cls, data):
        # YAML reads `20:` as a number, JSON (the admin, the database) as text: accept both.
        return {str(k): v for k, v in data.items()} if isinstance(data, dict) else data


class CriterionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    key: str = Field(pattern=KEY)
    label: str = Field(min_length=1)
    weight: int = Field(ge=1, le=10)
    anchors: Anchors | None = None


class PersonaSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    key: str = Field(pattern=KEY, max_length=40)
    name: str = Field(min_length=1, max_length=60)
    lens: str = Field(min_length=1, max_length=120)
    motto: str = Field(min_length=1, max_length=200)
    style_brief: str = Field(min_length=1)
    excites: list[str] = Field(default_factory=list)
    tires: list[str] = Field(default_factory=list)
    ship_threshold: int = Field(ge=0, le=100)
    sections: list[SectionSpec] = Field(min_length=1)
    summary_section: str = ""
    criteria: list[CriterionSpec] = Field(min_length=1)
    active: bool = True

    @model_validator(mode="after")
    def unique_keys(self):
        for name, items in (("sections", self.sections), ("criteria", self.criteria)):
            keys = [item.key for item in items]
            if len(keys) != len(set(keys)):
                raise ValueError(f"{name} keys must be unique")
        if self.summary_section and self.summary_section not in {s.key for s in self.sections}:
            raise ValueError(f"summary_section `{self.summary_section}` is not one of its sections")
        return self


def load_personas(path: str | Path | None = None) -> int:
    """Upsert every persona in the file (the bundled one by default); return how many."""
    source = Path(path) if path else BUNDLED_PERSONAS
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    specs = []
    for i, raw in enumerate(data.get("personas") or []):
        # Every field is one line but the style brief; checked before the model, by name.
        if message := control_chars.find(raw, allow=lambda path: control_chars.MULTILINE
                                         if path == ("style_brief",) else ""):
            raise PersonaError(f"personas[{i}]: {message}")
        try:
            specs.append(PersonaSpec.model_validate(raw))
        except ValidationError as exc:
            raise PersonaError(f"personas[{i}]: {describe_errors(exc)}") from None
    with transaction.atomic():
        for order, spec in enumerate(specs):
            values = spec.model_dump(by_alias=True, exclude_none=True)
            Persona.objects.update_or_create(key=values.pop("key"), defaults={**values, "order": order})
    return len(specs)


def ensure_personas() -> None:
    """Seed the bundled panel on a database that has no personas yet."""
    if not Persona.objects.exists():
        load_personas()
