#!/usr/bin/env bash
# Run a command inside a named network namespace that has only loopback.
#
# Everything that talks to the local control plane (the control plane itself,
# pulumi, kubectl, the tests) runs in here, so nothing can dial a Service or
# Pod address (10.x) or anything else off this machine. The namespace is named
# and persistent so that `make up` and a later `make destroy` reach the same
# loopback where the local cluster listens.
set -euo pipefail

NS="${KUBEFLOW_NETNS:-kubeflow-pulumi}"

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARGS...]  (runs COMMAND in the loopback-only netns '$NS')" >&2
  exit 2
fi

current_ns="$(ip netns identify $$ 2>/dev/null || true)"
if [[ "$current_ns" == "$NS" ]]; then
  exec "$@"
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "scripts/netns.sh: creating network namespace '$NS' needs root (ip netns add)." >&2
  echo "  fix: run as root, or set KUBEFLOW_NETNS to a namespace an administrator created for you." >&2
  exit 1
fi

if ! ip netns list | awk '{print $1}' | grep -qx "$NS"; then
  ip netns add "$NS"
fi
ip netns exec "$NS" ip link set lo up

# Refuse to run if the namespace has anything but loopback.
links="$(ip netns exec "$NS" ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//')"
if [[ "$links" != "lo" ]]; then
  echo "scripts/netns.sh: namespace '$NS' has links other than lo: $links" >&2
  echo "  fix: ip netns del $NS  (it is recreated with loopback only)" >&2
  exit 1
fi

exec ip netns exec "$NS" "$@"
