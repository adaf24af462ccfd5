from django.contrib import admin

from shiporskip.panel.models import PanelRun, Persona, Review


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "lens", "ship_threshold", "active", "order"]
    list_editable = ["active", "order"]


class ReviewInline(admin.TabularInline):
    model = Review
    fields = ["persona", "score", "verdict", "model", "prompt_version", "latency_ms"]
    readonly_fields = fields
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
