"""Sign up, sign in, sign out and password reset: Django's auth, with rate limits on top.

Sign-up and reset answer the same, in words and in time, whether or not an address has an
account: the request does the same work for every address and queues one task, and the
worker (community/tasks.py) decides what to email. So no account is made until its
owner follows the emailed link (PendingSignUp holds the sign-up until then).
"""

import secrets

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from shiporskip.community import ratelimit
from shiporskip.community.answers import next_url
from shiporskip.community.models import PendingSignUp, Vote
from shiporskip.community.tasks import has_account, send_password_reset, send_signup_mail
from shiporskip.community.voters import voter_for

TAKEN = "This address already has an account: sign in, or reset its password."
GONE = "This link no longer works: it was used already or has expired."


class SignUpForm(BaseUserCreationForm):
    """An email and a password: the email is also the user name."""

    email = forms.EmailField(max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    class Meta:
        model = get_user_model()
        fields = ("email",)

    def clean_email(self):
        # No check for an existing account here: saying so would tell anyone who has one.
        return self.cleaned_data["email"].strip().lower()

    def save_pending(self, next_page: str) -> PendingSignUp:
        """Keep the sign-up (the password hashed, as an account's) until its link is followed."""
        return PendingSignUp.objects.create(
            email=self.cleaned_data["email"],
            password=make_password(self.cleaned_data["password1"]),
            token=secrets.token_urlsafe(32),
            next=next_page,
        )


class SignInForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email (or user name)"

    def clean_username(self):
        # Sign-up stores emails lower-cased; a user name from createsuperuser keeps its case.
        name = self.cleaned_data["username"].strip()
        return name.lower() if "@" in name else name


def too_many(request, template: str, form, message: str, action: str):
    response = render(request, template, {"form": form, "error": message}, status=429)
    response["Retry-After"] = str(ratelimit.retry_after(action))
    return response


@never_cache
def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if message := ratelimit.check(request, "signup"):
            return too_many(request, "registration/signup.html", form, message, "signup")
        if form.is_valid():
            # The same for a new address and a known one: one row, one hash, one queued task.
            pending = form.save_pending(next_url(request, ""))
            send_signup_mail(pending.pk)
            return redirect("community:signup_sent")
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


def create_account(pending: PendingSignUp):
    """Make the account a sign-up asked for; None if the address has one by now."""
    email = pending.email
    users = get_user_model().objects
    try:
        with transaction.atomic():
            PendingSignUp.objects.filter(email=email).delete()  # this link and any other for it
            if has_account(email):
                return None
            return users.create(username=email, email=email, password=pending.password)
    except IntegrityError:  # a double click: the first request made the account
        return None


@never_cache
@require_http_methods(["GET", "POST"])
def finish_signup(request, token):
    """GET shows a button (mail scanners fetch links); POST makes the account and signs in."""
    pending = PendingSignUp.objects.live().filter(token=token).first()
    if pending is None:
        return render(request, "registration/signup_finish.html", {"error": GONE}, status=410)
    if request.method == "GET":
        return render(request, "registration/signup_finish.html", {"email": pending.email})
    user = create_account(pending)
    if user is None:
        return render(request, "registration/signup_finish.html", {"error": TAKEN}, status=410)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(pending.next or reverse_lazy("community:bookmarks"))


class SignInView(auth.LoginView):
    form_class = SignInForm
    template_name = "registration/signin.html"

    def post(self, request, *args, **kwargs):
        if message := ratelimit.check(request, "signin"):
            return too_many(request, self.template_name, self.get_form(), message, "signin")
        return super().post(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(auth.PasswordResetView):
    template_name = "registration/reset_form.html"  # the email itself: community/tasks.py
    success_url = reverse_lazy("community:reset_sent")

    def form_valid(self, form):
        # The worker looks the address up and sends the email (community/tasks.py): here, the
        # same work for every address, so the answer's timing tells nothing.
        send_password_reset(form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())

    def post(self, request, *args, **kwargs):
        # A reset sends an email: it counts as a sign-in attempt, so it cannot be used to spam.
        if message := ratelimit.check(request, "signin"):
            return too_many(request, self.template_name, self.get_form(), message, "signin")
        return super().post(request, *args, **kwargs)


@never_cache
@login_required
def account(request):
    votes = Vote.objects.filter(voter=voter_for(request)).select_related("tool").order_by("-updated_at")
    return render(request, "registration/account.html", {"votes": votes})
