from django.urls import path
from django.views.generic import RedirectView

from shiporskip.catalog import list_views, search_views, views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("tools", list_views.tools, name="tools"),
    path("tools/", RedirectView.as_view(pattern_name="catalog:tools", query_string=True, permanent=True)),
    path("tools/<slug:slug>", views.tool, name="tool"),
    path("tools/<slug:slug>/alternatives", list_views.alternatives, name="alternatives"),
    path("categories/<slug:slug>", list_views.category, name="category"),
    path("search", search_views.results, name="search"),
    path("search/suggestions", search_views.suggestions, name="suggestions"),
]
