from django.contrib import admin
from django.db import models

from shiporskip.catalog.models import Category, Tool


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    """Editing goes through Tool.clean(), so malformed facts are refused by field name."""

    list_display = ["name", "vendor", "category", "current_run", "updated_at"]
    list_filter = ["category"]
    search_fields = ["name", "vendor", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["current_run", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
