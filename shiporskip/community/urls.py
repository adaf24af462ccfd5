from django.contrib.auth import views as auth
from django.urls import path, reverse_lazy
from django.views.generic import TemplateView

from shiporskip.community import accounts, views

app_name = "community"
urlpatterns = [
    path("tools/<slug:slug>/vote", views.vote, name="vote"),
    path("tools/<slug:slug>/bookmark", views.bookmark, name="bookmark"),
    path("me", views.me, name="me"),
    path("bookmarks", views.bookmarks, name="bookmarks"),
    path("bookmarks/panel", views.bookmarks_panel, name="bookmarks_panel"),
    path("accounts/", accounts.account, name="account"),
    path("accounts/signup", accounts.signup, name="signup"),
    path(
        "accounts/signup/sent",
        TemplateView.as_view(template_name="registration/signup_sent.html"),
        name="signup_sent",
    ),
    path("accounts/signup/finish/<str:token>", accounts.finish_signup, name="signup_finish"),
    path("accounts/signin", accounts.SignInView.as_view(), name="signin"),
    path("accounts/signout", auth.LogoutView.as_view(), name="signout"),
    path("accounts/reset", accounts.PasswordResetView.as_view(), name="reset"),
    path(
        "accounts/reset/sent",
        auth.PasswordResetDoneView.as_view(template_name="registration/reset_sent.html"),
        name="reset_sent",
    ),
    path(
        "accounts/reset/<uidb64>/<token>",
        auth.PasswordResetConfirmView.as_view(
            template_name="registration/reset_confirm.html", success_url=reverse_lazy("community:reset_done")
        ),
        name="reset_confirm",
    ),
    path(
        "accounts/reset/done",
        auth.PasswordResetCompleteView.as_view(template_name="registration/reset_done.html"),
        name="reset_done",
    ),
]
