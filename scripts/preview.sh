#!/usr/bin/env bash
# pulumi preview --diff of a stack, with the policy pack in policy/, plus a Markdown
# summary a CI job can post on the pull request: build/preview/<stack>.md (creates/
# updates/deletes/replaces per component, then the policy violations per component).
# Expects scripts/env.sh to have been sourced.
#   scripts/preview.sh STACK [pulumi preview args...]
#   KUBEFLOW_POLICY=off scripts/preview.sh STACK   # without the policy pack
#   KUBEFLOW_PREVIEW_MIRROR=DIR scripts/preview.sh STACK
#       # a stack on the pinned upstream previewed offline: its objects come from the
#       # manifest mirror DIR instead (kubeflow:manifestMirror set in a copy of its config,
#       # build/preview/STACK.mirror.yaml); the summary says so (docs/upstream.md).
# A mandatory violation fails the preview (exit code of pulumi); the summary is written
# either way.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:?usage: scripts/preview.sh STACK [pulumi preview args...]}"; shift
mkdir -p build/preview
events="build/preview/${stack}.events.jsonl"
rm -f "$events"

config_args=()
summary_args=()
if [[ -n "${KUBEFLOW_PREVIEW_MIRROR:-}" ]]; then
  config_file="build/preview/${stack}.mirror.yaml"
  cp "stacks/Pulumi.${stack}.yaml" "$config_file"
  scripts/stack.sh "$stack" config set --config-file "$config_file" \
    kubeflow:manifestMirror "$KUBEFLOW_PREVIEW_MIRROR"
  config_args=(--config-file "$config_file")
  summary_args=(--mirror "$KUBEFLOW_PREVIEW_MIRROR")
fi

policy_args=()
if [[ "${KUBEFLOW_POLICY:-on}" != off ]]; then
  if [[ ! -x policy/venv/bin/python ]]; then
    echo "the policy pack has no virtualenv (policy/venv); fix: run \`make setup\`" \
      "(or \`cd policy && pulumi install\`), or set KUBEFLOW_POLICY=off" >&2
    exit 2
  fi
  # The pack's settings for this stack (cluster mode, Kubernetes version, levels), from its
  # stack config; a bad setting stops here, before the preview.
  pack_config="build/preview/${stack}.policy-config.json"
  scripts/stack.sh "$stack" config --json "${config_args[@]}" \
    | python -m policy.stack_config "$stack" --out "$pack_config"
  policy_args=(--policy-pack policy --policy-pack-config "$pack_config")
  summary_args+=(--policies)
fi

# --event-log is behind PULUMI_DEBUG_COMMANDS; it records the engine events of this one run.
rc=0
PULUMI_DEBUG_COMMANDS=true scripts/stack.sh "$stack" preview --diff --event-log "$events" \
  "${config_args[@]}" "${policy_args[@]}" "$@" || rc=$?
if [[ -s "$events" ]]; then
  python -m infra.preview_summary "$stack" "$events" --out "build/preview/${stack}.md" \
    "${summary_args[@]}" >/dev/null
  echo "summary: build/preview/${stack}.md"
fi
exit "$rc"
