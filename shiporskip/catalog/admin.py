from django.contrib import admin
from django.db import models

from shiporskip.catalog.history import record_change
from shiporskip.catalog.models import Category, FactsChange, Tool


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class FactsChangeInline(admin.TabularInline):
    model = FactsChange
    fields = readonly_fields = ("at", "by", "changes")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    """Editing goes through Tool.clean(), so malformed facts are refused by field name."""

    list_display = ["name", "vendor", "category", "current_run", "updated_at"]
    list_filter = ["category"]
    search_fields = ["name", "vendor", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["current_run", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [FactsChangeInline]

    def save_model(self, request, obj, form, change):
        before = Tool.objects.get(pk=obj.pk).facts if change else None
        super().save_model(request, obj, form, change)
        record_change(obj, before, by=f"admin ({request.user.get_username()})")
