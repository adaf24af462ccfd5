"""Helpers for the community tests: a reader is a test client with its own session."""

import re

from django.test import Client

CODE_LLAMA = "code-llama-4"
MISTRAL = "mistral-3-small-22b"
COMPARE = "/compare/code-llama-4-vs-mistral-3-small-22b"


def reader(**kwargs) -> Client:
    return Client(**kwargs)


def counts(slug: str) -> dict:
    from shiporskip.catalog.models import Tool

    return Tool.objects.with_community().get(slug=slug).community.as_dict()


def csrf_from(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
