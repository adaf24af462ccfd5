"""Persona specs: validated on the way in, upserted by key."""

from importlib import resources
from pathlib import Path

import yaml
from django.db import transaction

from shiporskip.catalog.loading import SAFE_LOADER
from shiporskip.panel.models import Persona
from shiporskip.panel.specs import PersonaError, PersonaSpec, validate_persona

BUNDLED_PERSONAS = resources.files("shiporskip.panel") / "data" / "personas.yaml"
__all__ = ["BUNDLED_PERSONAS", "PersonaError", "PersonaSpec", "ensure_personas", "load_personas"]


def load_personas(path: str | Path | None = None) -> int:
    """Upsert every persona in the file (the bundled one by default); return how many."""
    source = Path(path) if path else BUNDLED_PERSONAS
    data = yaml.load(source.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # noqa: S506 - safe
    specs = []
    for i, raw in enumerate(data.get("personas") or []):
        try:
            specs.append(validate_persona(raw))  # the admin's form runs the same check
        except PersonaError as exc:
            raise PersonaError(f"personas[{i}]: {exc}", field=exc.field) from None
    with transaction.atomic():
        for order, spec in enumerate(specs):
            values = spec.model_dump(by_alias=True, exclude_none=True)
            Persona.objects.update_or_create(key=values.pop("key"), defaults={**values, "order": order})
    return len(specs)


def ensure_personas() -> None:
    """Seed the bundled panel on a database that has no personas yet."""
    if not Persona.objects.exists():
        load_personas()
