# shellcheck shell=bash
# Environment for the Pulumi engine of this project. Source it (bash), from
# any directory:
#
#   source scripts/env.sh
#
# It exports:
#   PATH                 the engine's bin dir (built by scripts/tools.sh) first,
#                        then the project's .venv/bin
#   PULUMI_HOME          a plugin cache of our own next to that bin dir, where
#                        scripts/tools.sh installs the Kubernetes provider
#   PULUMI_SKIP_UPDATE_CHECK=true
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true  (a missing plugin is an
#                        error, never a download)
#   PULUMI_IGNORE_AMBIENT_PLUGINS=true  (plugins come from PULUMI_HOME or from
#                        next to the pulumi binary, never from elsewhere on PATH)
#   (no variable) the engine's automatic log is off: $PULUMI_HOME/logs is a link to
#                        /dev/null, unless KUBEFLOW_PULUMI_AUTOMATIC_LOGS=on (below)
#   PULUMI_BACKEND_URL   file://<repo>/.pulumi-state, unless already set or
#                        `pulumi login URL` was run with this PULUMI_HOME
#   PULUMI_CONFIG_PASSPHRASE_FILE  <repo>/.pulumi-state/passphrase (generated
#                        once, mode 600) unless PULUMI_CONFIG_PASSPHRASE or
#                        PULUMI_CONFIG_PASSPHRASE_FILE is already set
#   KUBEFLOW_KUBE_BIN_DIR  the local cluster's binaries (scripts/kube-tools.sh)
#   KUBEFLOW_PULUMI_BIN, KUBEFLOW_PULUMI_HOME, KUBEFLOW_PULUMI_VERSION,
#   KUBEFLOW_PULUMI_KUBERNETES_VERSION  (for scripts/tools.sh and the tests)
#
# Tool versions come from the pulumi and pulumi-kubernetes pins in
# pyproject.toml; the cache root is ${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}.
# Sourcing prints nothing unless a setting is wrong (then it returns 1 before changing
# anything), changes no shell option, and is safe to repeat.

case "${KUBEFLOW_PULUMI_AUTOMATIC_LOGS:-off}" in
  on | off) ;;
  *)
    echo "scripts/env.sh: KUBEFLOW_PULUMI_AUTOMATIC_LOGS=$KUBEFLOW_PULUMI_AUTOMATIC_LOGS;" \
      "fix: set it to on (the engine logs every command to \$PULUMI_HOME/logs) or off" >&2
    return 1
    ;;
esac

_kp_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_kp_pin() { # package name -> its ==version in pyproject.toml
  sed -n "s/^[[:space:]]*\"$1==\([^\";[:space:]]*\)\".*/\1/p" "$_kp_root/pyproject.toml" | head -n1
}
KUBEFLOW_PULUMI_VERSION="$(_kp_pin pulumi)"
KUBEFLOW_PULUMI_KUBERNETES_VERSION="$(_kp_pin pulumi-kubernetes)"
unset -f _kp_pin
if [[ -z "$KUBEFLOW_PULUMI_VERSION" || -z "$KUBEFLOW_PULUMI_KUBERNETES_VERSION" ]]; then
  echo "scripts/env.sh: cannot read the pulumi==X and pulumi-kubernetes==Y pins from $_kp_root/pyproject.toml" >&2
fi

_kp_base="${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/pulumi-v${KUBEFLOW_PULUMI_VERSION}-kubernetes-v${KUBEFLOW_PULUMI_KUBERNETES_VERSION}"
KUBEFLOW_PULUMI_BIN="$_kp_base/bin"
KUBEFLOW_PULUMI_HOME="$_kp_base/home"
export KUBEFLOW_PULUMI_VERSION KUBEFLOW_PULUMI_KUBERNETES_VERSION KUBEFLOW_PULUMI_BIN KUBEFLOW_PULUMI_HOME

# PATH: tools bin first, then the venv; each added once however often this is sourced.
for _kp_dir in "$_kp_root/.venv/bin" "$KUBEFLOW_PULUMI_BIN"; do
  case ":${PATH:-}:" in
    *":$_kp_dir:"*) ;;
    *) PATH="$_kp_dir${PATH:+:$PATH}" ;;
  esac
done
export PATH

export PULUMI_HOME="$KUBEFLOW_PULUMI_HOME"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true

# The engine's automatic log: Pulumi (3.2xx) writes every command's debug log, resources'
# properties included, gzip'd and encrypted, to $PULUMI_HOME/logs, whatever the verbosity.
# For the full platform that took 73% of a no-op preview (87 s against 24 s without it;
# README "Benchmark", docs/tools.md). It is off here: $PULUMI_HOME/logs is a
# link to /dev/null, where the engine cannot make its folder and runs on without the log
# (by design: "automatic logging unavailable"). KUBEFLOW_PULUMI_AUTOMATIC_LOGS=on turns it
# back on (e.g. for `pulumi logs share` with a Pulumi bug report); a folder of logs found
# where the link goes is kept, renamed logs.kept-<time>-<pid>. The link is in the tools
# cache, so the setting holds for every shell and run that uses that cache, from the next
# sourcing on.
_kp_logs="$PULUMI_HOME/logs"
case "${KUBEFLOW_PULUMI_AUTOMATIC_LOGS:-off}" in
  on)
    if [[ -L "$_kp_logs" ]]; then rm -f "$_kp_logs"; fi
    ;;
  off)
    if [[ ! -L "$_kp_logs" ]]; then
      mkdir -p "$PULUMI_HOME"
      if [[ -d "$_kp_logs" ]]; then # another shell may move it first
        mv "$_kp_logs" "$_kp_logs.kept-$(date +%Y%m%d%H%M%S)-$$" 2>/dev/null || true
      fi
      ln -s /dev/null "$_kp_logs" 2>/dev/null || true # another shell may have made it
    fi
    ;;
esac
unset _kp_logs

# State backend: the local file backend, unless PULUMI_BACKEND_URL was set by
# the caller or `pulumi login URL` (e.g. s3://bucket?region=...) was run with
# this PULUMI_HOME. A value this file set in an earlier sourcing is decided
# again, so a login takes effect when this file is sourced next.
_kp_state="$_kp_root/.pulumi-state"
if [[ -n "${PULUMI_BACKEND_URL:-}" && "$PULUMI_BACKEND_URL" == "${KUBEFLOW_PULUMI_DEFAULT_BACKEND:-}" ]]; then
  unset PULUMI_BACKEND_URL
fi
if [[ -z "${PULUMI_BACKEND_URL:-}" ]] \
  && ! grep -qs '"current": *"[^"]' "$PULUMI_HOME/credentials.json"; then
  mkdir -p "$_kp_state"
  export PULUMI_BACKEND_URL="file://$_kp_state"
  export KUBEFLOW_PULUMI_DEFAULT_BACKEND="$PULUMI_BACKEND_URL"
fi

# Secrets: a passphrase made once per checkout, readable by its owner only.
if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  if [[ ! -s "$_kp_state/passphrase" ]]; then
    mkdir -p "$_kp_state"
    (
      umask 077
      head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$_kp_state/passphrase.tmp.$$"
      # ln is atomic and never replaces: if another shell won the race, keep its file.
      ln "$_kp_state/passphrase.tmp.$$" "$_kp_state/passphrase" 2>/dev/null || true
      rm -f "$_kp_state/passphrase.tmp.$$"
    )
  fi
  chmod 600 "$_kp_state/passphrase"
  export PULUMI_CONFIG_PASSPHRASE_FILE="$_kp_state/passphrase"
fi

# The local cluster's binaries (scripts/kube-tools.sh), for cluster=local stacks and e2e tests.
if [[ -z "${KUBEFLOW_KUBE_BIN_DIR:-}" ]]; then
  _kp_kube="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' \
    "$_kp_root/tools/kube/kubernetes/go.mod")"
  export KUBEFLOW_KUBE_BIN_DIR="${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/kube-${_kp_kube}/bin"
  unset _kp_kube
fi

unset _kp_root _kp_base _kp_dir _kp_state
