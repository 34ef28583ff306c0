#!/usr/bin/env bash
# pulumi preview --diff of a stack, plus a Markdown summary a CI job can post
# on the pull request: build/preview/<stack>.md (creates/updates/deletes/
# replaces per component). Expects scripts/env.sh to have been sourced.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:?usage: scripts/preview.sh STACK [pulumi preview args...]}"; shift
mkdir -p build/preview
events="build/preview/${stack}.events.jsonl"
rm -f "$events"
# --event-log is behind PULUMI_DEBUG_COMMANDS; it records the engine events of this one run.
PULUMI_DEBUG_COMMANDS=true scripts/stack.sh "$stack" preview --diff --event-log "$events" "$@"
python -m infra.preview_summary "$stack" "$events" --out "build/preview/${stack}.md" >/dev/null
echo "summary: build/preview/${stack}.md"
