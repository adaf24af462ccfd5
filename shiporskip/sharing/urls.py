from django.urls import path

from shiporskip.sharing import sitemaps, views

app_name = "sharing"
urlpatterns = [
    path("robots.txt", views.robots, name="robots"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<section>.xml", sitemaps.section, name="sitemap_section"),
    path("card.png", views.site_card, name="site_card"),
    path("tools/<slug:slug>/card.png", views.tool_card, name="tool_card"),
    path("compare/<str:pair>/card.png", views.pair_card, name="pair_card"),
]
