from django.contrib import admin

from shiporskip.community.models import Bookmark, Vote


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    """Read and remove votes (e.g. a flood from one voter); counts follow, being derived."""

    list_display = ["tool", "verdict", "voter", "updated_at"]
    list_filter = ["verdict", "tool__category"]
    search_fields = ["tool__name", "voter"]
    list_select_related = ["tool"]
    readonly_fields = ["tool", "voter", "verdict", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ["tool", "owner", "created_at"]
    search_fields = ["tool__name", "owner"]
    list_select_related = ["tool"]
    readonly_fields = ["tool", "owner", "created_at"]

    def has_add_permission(self, request):
        return False
