from django.urls import path

from shiporskip.panel import views

app_name = "panel"
urlpatterns = [
    path("panel/", views.personas, name="personas"),
    path("panel/<slug:key>", views.persona, name="persona"),
]
