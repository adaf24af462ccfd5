from django.urls import path

from shiporskip.compare import views

app_name = "compare"
urlpatterns = [
    path("compare/", views.pick, name="pick"),
    path("compare/<str:pair>", views.pair, name="pair"),
]
