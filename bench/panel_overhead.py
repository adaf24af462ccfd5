"""Panel-run overhead against a loopback OpenAI-compatible server with a fixed delay.

Run: .venv/bin/python bench/panel_overhead.py [--delay 0.5] [--runs 5] [--llamacpp]

The server answers every request after DELAY seconds and serves requests in parallel, so a
perfect panel costs one call's time. Prints, in the same run:
  - the slowest single persona call (the baseline),
  - the wall time of a four-persona panel and its ratio to that baseline (target <= 1.1),
  - the per-review overhead: a call's time minus the server's delay, in milliseconds.
With --llamacpp it also starts llama.cpp's server on the bundled Gemma 3 270M and prints the
tokens in and out per verdict.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SHIPORSKIP_DATA_DIR"] = tempfile.mkdtemp(prefix="sos-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "shiporskip.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from shiporskip.catalog.loading import load_bundled  # noqa: E402
from shiporskip.catalog.models import Tool  # noqa: E402
from shiporskip.panel.backends import get_reviewer  # noqa: E402
from shiporskip.panel.models import Persona  # noqa: E402
from shiporskip.panel.personas import load_personas  # noqa: E402
from shiporskip.panel.running import build_request, review_tool, snapshot  # noqa: E402
from tests.chat_server import ChatServer  # noqa: E402


def single_calls(model: str, tool: Tool) -> list[float]:
    reviewer = get_reviewer(model)
    view = snapshot(tool)
    personas = list(Persona.objects.active())
    reviewer.review(build_request(personas[0], view))  # warm up: SDK import, client, sockets
    times = []
    for persona in personas:
        started = time.perf_counter()
        reviewer.review(build_request(persona, view))
        times.append(time.perf_counter() - started)
    return times


def panel_times(model: str, tool: Tool, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run = review_tool(tool=tool, model=model, force=True)
        times.append(time.perf_counter() - started)
        assert run.status == "done", run.error
    return times


def overhead(delay: float, runs: int) -> None:
    server = ChatServer(delay=delay)
    os.environ["OPENAI_BASE_URL"] = server.url
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    tool = Tool.objects.select_related("category").get(slug="code-llama-4")
    model = "openai/bench"
    singles = single_calls(model, tool)
    panel_times(model, tool, 1)  # warm up the run path too
    panels = panel_times(model, tool, runs)
    slowest, wall = max(singles), statistics.median(panels)
    print(f"server delay per call:            {delay * 1000:8.1f} ms")
    print(f"slowest single persona call:      {slowest * 1000:8.1f} ms  (baseline)")
    print(f"four-persona panel, median of {runs}:  {wall * 1000:8.1f} ms")
    print(f"panel / slowest single call:      {wall / slowest:8.3f}    (target <= 1.1)")
    print(f"per-review overhead:              {(statistics.median(singles) - delay) * 1000:8.1f} ms")
    server.close()


def llamacpp_tokens(runs: int) -> None:
    from tests.llama_server import start_llama_server

    with start_llama_server() as url:
        os.environ["LLAMACPP_SERVER_URL"] = url
        tool = Tool.objects.select_related("category").get(slug="mistral-3-small-22b")
        done, tokens_in, tokens_out = 0, [], []
        for _ in range(runs):
            run = review_tool(tool=tool, model="llamacpp-server/gemma", force=True)
            if run.status != "done":
                continue
            done += 1
            for review in run.reviews.all():
                tokens_in.append(review.tokens_in)
                tokens_out.append(review.tokens_out)
        print(f"llama.cpp Gemma 3 270M: {done}/{runs} panels done")
        if tokens_in:
            print(
                f"tokens per verdict: {statistics.mean(tokens_in):.0f} in, "
                f"{statistics.mean(tokens_out):.0f} out (mean over {len(tokens_in)} reviews)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--llamacpp", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    load_personas()
    load_bundled()
    overhead(args.delay, args.runs)
    if args.llamacpp:
        llamacpp_tokens(args.runs)


if __name__ == "__main__":
    main()
