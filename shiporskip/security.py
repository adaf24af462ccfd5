"""Headers and limits every response and request gets, whatever the view."""

from django.conf import settings
from django.http import HttpResponse


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer, and a cap on request bodies read before any view.

    Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but would still read a large
    multipart body; the cap here refuses by Content-Length before a byte of it is read. A body
    without a Content-Length (chunked) is never read by Django's WSGI handler.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.too_large(request) or self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    @staticmethod
    def too_large(request) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse(
                "Content-Length is not a number.\n", status=400, content_type="text/plain; charset=utf-8"
            )
        if length <= settings.MAX_BODY:
            return None
        response = HttpResponse(
            f"The request body is {length} bytes; this site takes at most {settings.MAX_BODY}.\n",
            status=413,
            content_type="text/plain; charset=utf-8",
        )
        response["Connection"] = "close"  # the unread body must not be taken for a next request
        return response
