from django.contrib import admin

from shiporskip.newsletter.models import Edition, Subscriber, Suppression


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    readonly_fields = ["confirm_sent_at", "created_at", "confirmed_at", "unsubscribed_at"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    """Editions are records of what was sent: read-only."""

    list_display = ["number", "subject", "created_at", "finished_at", "error"]
    readonly_fields = [
        "number",
        "subject",
        "period_start",
        "period_end",
        "created_at",
        "finished_at",
        "error",
        "text",
        "content",
    ]
    exclude = ["html"]

    def has_add_permission(self, request):
        return False
