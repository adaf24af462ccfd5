"""Subscribe, confirm, unsubscribe, and the archive of past editions."""

from csp.decorators import csp_update
from django import forms
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from shiporskip.community import ratelimit
from shiporskip.community.answers import is_htmx, wants_json
from shiporskip.newsletter.models import ConfirmError, Edition, Subscriber
from shiporskip.newsletter.tasks import subscribe_address
from shiporskip.pages import public

DONE = "Check your inbox: we sent a link to confirm."


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Enter your email address.",
            "invalid": "That doesn't look like an email address: check it and try again.",
            "max_length": "That is too long for an email address (254 characters at most).",
        },
    )


def answer(request, template, context, status=200):
    """The same outcome as JSON, an htmx fragment, or a page, as the client asked."""
    if wants_json(request):
        form = context.get("form")
        body = (
            {"ok": status == 200, "message": DONE}
            if status == 200
            else {"ok": False, "error": " ".join(form.errors.get("email", []))}
        )
        return JsonResponse(body, status=status)
    if is_htmx(request):
        return render(request, f"newsletter/{template}_fragment.html", context, status=status)
    return render(request, f"newsletter/{template}.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request):
    """GET (the box without JavaScript): a real form to post. POST: the same answer for every address."""
    if request.method == "GET":  # never prefilled from the query: an address in a URL is logged
        return render(request, "newsletter/subscribe.html", {"form": SubscribeForm()})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return answer(request, "subscribe", {"form": form}, status=400)
    if message := ratelimit.check(request, "subscribe"):  # each subscribe may send an email
        form.add_error("email", message)
        response = answer(request, "subscribe", {"form": form}, status=429)
        response["Retry-After"] = str(ratelimit.retry_after("subscribe"))
        return response
    # By the worker, the lookup too: the answer does the same work for every address.
    subscribe_address(form.cleaned_data["email"])
    return answer(request, "subscribed", {"message": DONE, "form": form})


# The box on a cached page holds no CSRF token, so without JavaScript it posts here: a POST, so
# that the address travels in the body, never in a URL (and so never in an access log). This
# view changes nothing and sends nothing: it answers the real form, prefilled and with a
# token, one more click (what a forged post can do is show a reader a prefilled form).
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def subscribe_form(request):
    """The box without JavaScript: the real subscribe form, prefilled from the posted address."""
    typed = request.POST.get("email", "")[:254] if request.method == "POST" else ""
    return render(request, "newsletter/subscribe.html", {"form": SubscribeForm(initial={"email": typed})})


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """GET shows a button (mail scanners fetch links); POST confirms, once."""
    try:
        subscriber, nonce = Subscriber.from_confirm_token(token)
    except ConfirmError as exc:
        return render(request, "newsletter/confirm.html", {"error": str(exc)}, status=410)
    if request.method == "GET":
        return render(request, "newsletter/confirm.html", {"email": subscriber.email})
    if not subscriber.confirm(nonce):
        return render(
            request,
            "newsletter/confirm.html",
            {"error": "This confirmation link has already been used."},
            status=410,
        )
    return render(request, "newsletter/confirmed.html", {"email": subscriber.email})


@csrf_exempt  # RFC 8058 one-click: mail clients POST with no cookies; the token authorises it
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET shows a button and changes nothing; POST unsubscribes at once."""
    subscriber = Subscriber.objects.filter(token=token).first()
    if subscriber is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        subscriber.unsubscribe()
        return render(request, "newsletter/unsubscribed.html", {"email": subscriber.email})
    return render(request, "newsletter/unsubscribe.html", {"email": subscriber.email})


@public
def archive(request):
    # A failed edition went to nobody: the archive shows what readers were sent.
    return render(request, "newsletter/archive.html", {"editions": Edition.objects.filter(error="")})


@public
# The stored body is the email as sent, whose styles are inline (mail clients drop style
# sheets); it is built by our template with every value escaped, so inline styles are safe here.
# django-csp types its decorators for views of the request alone, not URL arguments too.
@csp_update({"style-src": ["'unsafe-inline'"]})  # type: ignore[arg-type]
def edition(request, number):
    return render(
        request, "newsletter/edition.html", {"edition": get_object_or_404(Edition, number=number, error="")}
    )
