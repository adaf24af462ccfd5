"""Sign up, sign in, sign out and password reset: Django's auth, with rate limits on top."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from shiporskip.community import ratelimit
from shiporskip.community.answers import next_url
from shiporskip.community.models import Vote
from shiporskip.community.voters import voter_for

TAKEN = "An account with this email already exists: sign in, or reset its password."


class SignUpForm(BaseUserCreationForm):
    """An email and a password: the email is also the user name."""

    email = forms.EmailField(max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    class Meta:
        model = get_user_model()
        fields = ("email",)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
            raise forms.ValidationError(TAKEN)
        return email

    def save(self, commit=True):
        user = super().save(commit=False)
        user.username = user.email = self.cleaned_data["email"]
        if commit:
            user.save()
        return user


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
            try:
                with transaction.atomic():
                    user = form.save()
            except IntegrityError:  # a double click: the first request made the account
                form.add_error("email", TAKEN)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(next_url(request, reverse_lazy("community:bookmarks")))
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


class SignInView(auth.LoginView):
    form_class = SignInForm
    template_name = "registration/signin.html"

    def post(self, request, *args, **kwargs):
        if message := ratelimit.check(request, "signin"):
            return too_many(request, self.template_name, self.get_form(), message, "signin")
        return super().post(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(auth.PasswordResetView):
    template_name = "registration/reset_form.html"
    email_template_name = "registration/reset_email.txt"
    subject_template_name = "registration/reset_subject.txt"
    success_url = reverse_lazy("community:reset_sent")

    def form_valid(self, form):
        # The link points at the public address, as every other email's do, not at whatever
        # host and scheme this request came in on (a TLS-terminating proxy would make it http).
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)

    def post(self, request, *args, **kwargs):
        # A reset sends an email: it counts as a sign-in attempt, so it cannot be used to spam.
        if message := ratelimit.check(request, "signin"):
            return too_many(request, self.template_name, self.get_form(), message, "signin")
        return super().post(request, *args, **kwargs)


@never_cache
@login_required
def account(request):
    votes = (Vote.objects.filter(voter=voter_for(request)).select_related("tool")
             .order_by("-updated_at"))
    return render(request, "registration/account.html", {"votes": votes})
