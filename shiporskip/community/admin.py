from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from shiporskip.community import ratelimit
from shiporskip.community.models import Bookmark, Lockout, Vote


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


@login_not_required  # as the admin's own login view is
def admin_login(request, extra_context=None):
    """The admin's sign-in page, throttled like the site's (its own limits: SHIPORSKIP_RATE_ADMIN*).

    A locked browser or network gets 429 without its password being checked, so a right
    guess made while locked out tells the guesser nothing; the refusal is kept as a Lockout.
    """
    if request.method == "POST" and (message := ratelimit.check(request, "admin")):
        return refused_admin_login(request, message)
    return admin.site.login(request, extra_context)


def refused_admin_login(request, message: str):
    """The admin's own sign-in page, with the reason at the top, answered 429 with Retry-After."""
    from django.contrib.admin.forms import AdminAuthenticationForm

    messages.error(request, message)
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "form": AdminAuthenticationForm(request, initial={"username": request.POST.get("username", "")}),
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME) or reverse("admin:index"),
    }
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    response["Retry-After"] = str(ratelimit.retry_after("admin"))
    add_never_cache_headers(response)
    return response


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin):
    """Who was refused signing in, and when the lock lifts: read-only, newest first."""

    list_display = ["last_at", "where", "scope_shown", "who", "ip", "tried", "refused", "first_at", "until"]
    list_filter = ["action", "scope"]
    search_fields = ["who", "ip", "usernames"]
    date_hierarchy = "last_at"
    readonly_fields = [f.name for f in Lockout._meta.fields]

    @admin.display(description="sign-in", ordering="action")
    def where(self, row):
        return "admin" if row.action == "admin" else "site"

    @admin.display(description="locked", ordering="scope")
    def scope_shown(self, row):
        return "network (IP)" if row.scope == "ip" else "browser session"

    @admin.display(description="names tried")
    def tried(self, row):
        return ", ".join(row.usernames) or "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
