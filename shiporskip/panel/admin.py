from django import forms
from django.contrib import admin

from shiporskip.panel.models import PanelRun, Persona, Review
from shiporskip.panel.specs import FIELDS, PersonaError, validate_persona


class PersonaForm(forms.ModelForm):
    """A persona edited by hand passes the check a persona file passes (panel/specs.py)."""

    class Meta:
        model = Persona
        fields = [*FIELDS, "order", "active"]

    def clean(self):
        data = super().clean()
        if any(f not in data for f in FIELDS):  # a field already refused says so on its own
            return data
        # A text area sends CRLF; the file's YAML gives LF. The same text, so the same check.
        raw = {f: data[f] for f in FIELDS} | {"active": data.get("active", True)}
        raw["style_brief"] = raw["style_brief"].replace("\r\n", "\n")
        try:
            spec = validate_persona(raw)
        except PersonaError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
            return data
        return data | spec.data()  # stored as the file's loader stores it


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    form = PersonaForm
    list_display = ["name", "key", "lens", "ship_threshold", "active", "order"]
    list_editable = ["active", "order"]


REVIEW_FIELDS = ("persona", "score", "verdict", "model", "prompt_version", "latency_ms")


class ReviewInline(admin.TabularInline):
    model = Review
    fields = readonly_fields = REVIEW_FIELDS
    extra = 0
    can_delete = False


@admin.register(PanelRun)
class PanelRunAdmin(admin.ModelAdmin):
    """Runs are records of what happened: read-only here."""

    list_display = ["tool", "model", "status", "personas_done", "created_at", "finished_at"]
    list_filter = ["status", "model"]
    inlines = [ReviewInline]

    def has_change_permission(self, request, obj=None):
        return False
