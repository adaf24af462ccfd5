from django.urls import path

from shiporskip.feeds import atom, badges

app_name = "feeds"
urlpatterns = [
    path("feeds/verdicts.atom", atom.verdicts, name="verdicts"),
    path("categories/<slug:slug>/verdicts.atom", atom.category_verdicts, name="category"),
    path("tools/<slug:slug>/badge.svg", badges.badge, name="badge"),
]
