"""Refuse a request whose address or public form carries a control character, before any view.

A NUL in a URL reached PostgreSQL and failed the query (a 500 on `/api/tools/%00`); a CR or
LF in a form field could end up in a stored name or an email header. No address and no field
of a public form needs a control character (their fields are all one line), so the request is
answered 400 with a message naming the character and where it is, and nothing runs.

The admin's forms are left to the admin: their text areas send line breaks, and each model
says which of its fields may keep them (`Tool.clean`, `Category.clean`, `Persona.clean`).
Their addresses and query strings (the admin's search) are checked like every other.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from shiporskip.community.answers import is_htmx, wants_json
from shiporskip.control_chars import problem, shown
from shiporskip.links import ADMIN_PATH

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
API = "/api/"  # where shiporskip/urls.py mounts the JSON API: it answers errors as {"detail": ...}


def refusal(request) -> str | None:
    """What is wrong with the request's path, query string or public form, or None."""
    if message := problem(request.path_info):
        return f"The address {message}."
    for key, values in request.GET.lists():
        for value in [key, *values]:
            if message := problem(value):
                return f"The query parameter “{shown(key)}” {message}."
    if request.method == "POST" and request.content_type in FORMS and not is_admin(request):
        for key, values in request.POST.lists():
            for value in [key, *values]:
                if message := problem(value):
                    return f"The form field “{shown(key)}” {message}."
    return None


def is_admin(request) -> bool:
    # The path the admin is mounted at, not reverse("admin:index"): that costs every POST a
    # lookup, and it carries the script prefix, which path_info does not.
    return request.path_info.startswith(ADMIN_PATH)


class ControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (message := refusal(request)) is None:
            return self.get_response(request)
        if request.path_info.startswith(API):
            response = JsonResponse({"detail": message}, status=400)
        elif is_htmx(request):
            response = render(request, "community/error_line.html", {"error": message}, status=400)
        elif wants_json(request):
            response = JsonResponse({"error": message}, status=400)
        else:
            response = render(request, "bad_input.html", {"error": message}, status=400)
        add_never_cache_headers(response)
        return response
