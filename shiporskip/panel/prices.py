"""Token prices per model, for the cost of each review: USD per million tokens.

The bundled table (`data/prices.yaml`) can be replaced by a file named in SHIPORSKIP_PRICES.
Models not in the table (local servers, offline) cost nothing.
"""

import functools
from importlib import resources
from pathlib import Path

import yaml
from django.core.exceptions import ImproperlyConfigured

from shiporskip.conf import setting

BUNDLED = resources.files("shiporskip.panel") / "data" / "prices.yaml"


@functools.cache
def price_table() -> dict[str, dict[str, float]]:
    path = setting("SHIPORSKIP_PRICES")
    text = Path(path).read_text() if path else BUNDLED.read_text()
    table = (yaml.safe_load(text) or {}).get("models", {})
    for name, price in table.items():
        if not isinstance(price, dict) or set(price) != {"input", "output"}:
            raise ImproperlyConfigured(
                f"SHIPORSKIP_PRICES: {name} needs `input` and `output` USD per million tokens"
            )
    return table


def cost_of(model: str, tokens_in: int, tokens_out: int) -> float:
    price = price_table().get(model)
    if not price:
        return 0.0
    return (tokens_in * price["input"] + tokens_out * price["output"]) / 1_000_000
