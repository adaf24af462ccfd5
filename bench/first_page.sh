#!/usr/bin/env bash
# Time from the README's run command (scripts/up) on a fresh clone and a fresh venv to the
# first page served, and to the seed comparison fully reviewed by the worker.
# Run: bash bench/first_page.sh   (pip's download cache, if warm, is used as a user's would be)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
git clone -q "$repo" "$work/clone"
cd "$work/clone"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$(date +%s.%N)
scripts/up --port "$port" >"$work/up.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -fs "http://127.0.0.1:$port/" >/dev/null; do sleep 0.2; done
first=$(date +%s.%N)
until [ "$(curl -fs "http://127.0.0.1:$port/compare/code-llama-4-vs-mistral-3-small-22b" | grep -cE '[0-9]+/100 · (ship|skip)')" -ge 8 ]; do sleep 0.2; done
reviewed=$(date +%s.%N)
python3 - "$start" "$first" "$reviewed" <<'PY'
import sys
start, first, reviewed = map(float, sys.argv[1:])
print(f"fresh venv -> first page served:         {first - start:6.1f} s")
print(f"fresh venv -> seed comparison reviewed:  {reviewed - start:6.1f} s")
PY
