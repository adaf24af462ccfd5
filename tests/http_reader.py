"""A reader over real HTTP: its own cookie jar (so its own session) and the CSRF token from /me."""

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request


class HttpReader:
    def __init__(self, base: str, headers: dict | None = None):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.opener.addheaders = list((headers or {}).items())
        self.csrf = self.get_json("/me")["csrf"]

    def get_json(self, path: str) -> dict:
        with self.opener.open(self.base + path, timeout=60) as response:
            return json.load(response)

    def post(self, path: str, data: dict) -> tuple[int, dict]:
        """POST a form asking for JSON; return the status and the decoded body."""
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf, "Referer": self.base + "/"}
        request = urllib.request.Request(  # noqa: S310 (the base is our own loopback server)
            self.base + path, data=urllib.parse.urlencode(data).encode(), method="POST", headers=headers
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, {"error": exc.read().decode(errors="replace")[:500]}
