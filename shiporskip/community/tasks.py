"""The worker's side of accounts: sign-up and password-reset emails, and daily housekeeping.

The emails are sent here, never inside the request: an SMTP conversation takes tens of
milliseconds, so sending only for known addresses would tell anyone timing the answer
which addresses have an account. The request does the same work for every address and
queues one task; this decides, out of sight, what (if anything) to send.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import send_mail
from django.core.management import call_command
from django.db.models import Q
from django.template.loader import render_to_string
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from shiporskip.community.models import PendingSignUp
from shiporskip.community.ratelimit import forget_old


def has_account(email: str) -> bool:
    return get_user_model().objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()


@db_task(retries=3, retry_delay=60)
def send_signup_mail(pending_id: int) -> None:
    """Email the link that finishes a sign-up, or tell an account's owner someone tried again."""
    pending = PendingSignUp.objects.live().filter(pk=pending_id).first()
    if pending is None:  # finished or expired meanwhile
        return
    context = {"site_url": settings.SITE_URL, "email": pending.email, "token": pending.token}
    name = "signup_exists" if has_account(pending.email) else "signup"
    subject = render_to_string(f"registration/{name}_subject.txt", context).strip()
    send_mail(subject, render_to_string(f"registration/{name}_email.txt", context), None, [pending.email])
    if name == "signup_exists":
        pending.delete()  # its link was never sent: nothing can use it


@db_task(retries=3, retry_delay=60)
def send_password_reset(email: str) -> None:
    """Email a reset link to each active account with this address (none: nothing is sent)."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    # The link points at the public address, as every other email's do.
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        subject_template_name="registration/reset_subject.txt",
        email_template_name="registration/reset_email.txt",
        extra_email_context={"site_url": settings.SITE_URL},
    )


@db_periodic_task(crontab(hour="3", minute="17"))
def tidy_up():
    """Drop expired sessions (anonymous voters make one each), past rate-limit windows and
    sign-ups whose link has expired."""
    call_command("clearsessions")
    forget_old()
    PendingSignUp.objects.expired().delete()
