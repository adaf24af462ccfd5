from django.urls import path

from shiporskip.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("tools/<slug:slug>", views.tool, name="tool"),
    path("categories/<slug:slug>", views.category, name="category"),
]
