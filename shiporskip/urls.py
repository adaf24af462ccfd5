from django.contrib import admin
from django.urls import include, path

from shiporskip.api.views import api

urlpatterns = [
    path("", include("shiporskip.catalog.urls")),
    path("", include("shiporskip.panel.urls")),
    path("", include("shiporskip.compare.urls")),
    path("", include("shiporskip.community.urls")),
    path("newsletter/", include("shiporskip.newsletter.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
