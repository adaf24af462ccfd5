from django.contrib import admin
from django.urls import include, path

from shiporskip.api.views import api
from shiporskip.community.admin import admin_login
from shiporskip.links import ADMIN_PATH

urlpatterns = [
    path("", include("shiporskip.sharing.urls")),
    path("", include("shiporskip.catalog.urls")),
    path("", include("shiporskip.panel.urls")),
    path("", include("shiporskip.compare.urls")),
    path("", include("shiporskip.community.urls")),
    path("", include("shiporskip.feeds.urls")),
    path("", include("shiporskip.ops.urls")),
    path("newsletter/", include("shiporskip.newsletter.urls")),
    path("api/", api.urls),
    # Before admin.site.urls, so the admin's sign-in goes through the rate limit.
    path(f"{ADMIN_PATH[1:]}login/", admin_login),
    path(ADMIN_PATH[1:], admin.site.urls),
]

# Styled error pages when DEBUG is off; 500.html is rendered by Django's own handler, with
# no context processors and no query (the database may be what failed).
handler404 = "shiporskip.pages.page_not_found"
