from django.urls import path

from shiporskip.newsletter import views

app_name = "newsletter"
urlpatterns = [
    path("", views.archive, name="archive"),
    path("<int:number>", views.edition, name="edition"),
    path("subscribe", views.subscribe, name="subscribe"),
    path("subscribe/form", views.subscribe_form, name="subscribe_form"),
    path("confirm/<str:token>", views.confirm, name="confirm"),
    path("unsubscribe/<slug:token>", views.unsubscribe, name="unsubscribe"),
]
