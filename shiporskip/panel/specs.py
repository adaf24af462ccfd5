"""A persona's spec: one typed shape, and one check for every way a persona comes in.

The YAML file (`personas.load_personas`, `shiporskip personas load`) and the admin's form
(`panel/admin.py`) both go through `validate_persona()`, so the admin refuses exactly what the
file refuses; prompts, replies and backends read the typed `PersonaSpec`, never a dict.
No Django model here: `panel/models.py` and the backends import this module.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shiporskip import control_chars
from shiporskip.catalog.facts import describe_errors

KEY = r"^[a-z][a-z0-9_]*$"
# The fields a persona's data holds (what its version is a digest of), in the stored order.
FIELDS = (
    "key",
    "name",
    "lens",
    "motto",
    "style_brief",
    "excites",
    "tires",
    "sections",
    "summary_section",
    "ship_threshold",
    "criteria",
)


class PersonaError(ValueError):
    """A persona that cannot be used; `field` names the first field at fault (None: several)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    question: str = Field(min_length=1)


class Anchors(BaseModel):
    """What a sub-score of 20, 50 and 80 means: the scale an LLM reviewer is held to."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True, frozen=True)
    low: str = Field(min_length=1, alias="20")
    mid: str = Field(min_length=1, alias="50")
    high: str = Field(min_length=1, alias="80")

    @model_validator(mode="before")
    @classmethod
    def text_keys(cls, data: Any) -> Any:
        # YAML reads `20:` as a number, JSON (the admin, the database) as text: accept both.
        return {str(k): v for k, v in data.items()} if isinstance(data, dict) else data


class CriterionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    key: str = Field(pattern=KEY)
    label: str = Field(min_length=1)
    weight: int = Field(ge=1, le=10)
    anchors: Anchors | None = None


class PersonaSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
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
    def unique_keys(self) -> "PersonaSpec":
        for name, items in (("sections", self.sections), ("criteria", self.criteria)):
            keys = [item.key for item in items]
            if len(keys) != len(set(keys)):
                raise ValueError(f"{name} keys must be unique")
        if self.summary_section and self.summary_section not in {s.key for s in self.sections}:
            raise ValueError(f"summary_section `{self.summary_section}` is not one of its sections")
        return self

    def data(self) -> dict[str, Any]:
        """The persona as stored (JSON fields as the database holds them), `active` aside:
        what its version, prompt version and call keys are digests of."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, include=set(FIELDS))


def allowed(path: tuple) -> str:
    """What a field may keep: every field is one line but the style brief."""
    return control_chars.MULTILINE if path == ("style_brief",) else ""


def validate_persona(raw: Any) -> PersonaSpec:
    """The one check of a persona's data, from a file, the admin or the database.

    Control characters are named first, by field (before the model strips or reads them),
    then the model's rules; PersonaError says what is wrong, one `field: message` per fault.
    """
    if message := control_chars.find(raw, allow=allowed):
        raise PersonaError(message, field=message.split(" ", 1)[0].split(".")[0].split("[")[0])
    try:
        return PersonaSpec.model_validate(raw)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        raise PersonaError(describe_errors(exc), field=fields.pop() if len(fields) == 1 else None) from None
