#!/usr/bin/env bash
# Run a pulumi command on a stack, creating the stack on first use.
#   scripts/stack.sh STACK up --yes
# Expects scripts/env.sh to have been sourced (pulumi on PATH, backend, passphrase).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 2 ]]; then
  echo "usage: $0 STACK PULUMI-COMMAND [ARGS...]" >&2
  exit 2
fi
stack="$1"; shift

if [[ ! -f "stacks/Pulumi.${stack}.yaml" ]]; then
  known=(stacks/Pulumi.*.yaml)
  known=("${known[@]#stacks/Pulumi.}")
  echo "no stack file stacks/Pulumi.${stack}.yaml; fix: use one of: ${known[*]%.yaml}" >&2
  exit 2
fi
if ! pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"${stack}\""; then
  pulumi stack init "$stack" --non-interactive >/dev/null
fi
if [[ "$1" == destroy ]]; then
  # Say what the stack keeps on purpose (keepData) before it goes.
  pulumi stack export --stack "$stack" | .venv/bin/python -m infra.kept_objects >&2 || true
  # The state is saved once, at the end (why, and what a killed destroy leaves: the file).
  set -a
  source scripts/destroy.env
  set +a
fi
exec pulumi --non-interactive "$@" --stack "$stack"
