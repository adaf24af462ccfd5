from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("shiporskip.catalog.urls")),
    path("", include("shiporskip.panel.urls")),
    path("", include("shiporskip.compare.urls")),
    path("admin/", admin.site.urls),
]
