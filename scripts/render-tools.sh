#!/usr/bin/env bash
# The tools that render the pinned upstream (components/render.py): kustomize and helm,
# built from Go modules at pinned versions, as scripts/tools.sh builds the engine.
#
#   scripts/render-tools.sh          # build what is missing, print the bin dir
#   KUBEFLOW_RENDER_BIN=DIR ...      # use (or build into) another folder
#
# Layout: ${KUBEFLOW_RENDER_BIN:-${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/render-tools/bin}
# holds kustomize and helm, each with a <tool>.version stamp (pinned version, Go version);
# a tool is rebuilt only when its stamp changed, so a warm re-run takes well under a second.
# The versions are the ones the Kubernetes provider 4.25.0 renders with (its go.mod:
# sigs.k8s.io/kustomize/api v0.19.0, which kustomize v5.6.0 is built on, and
# helm.sh/helm/v3 v3.18.6): a render here is what a kustomize/v2 Directory or a helm/v4
# Chart of earlier versions of this project rendered. A cold build takes about 2 min
# (kustomize) and 10 min (helm) on 2 cores.
# Progress goes to stderr; the last line on stdout is the bin dir.
# Needs: go and the Go module proxy (or a warm module cache).
set -euo pipefail

KUSTOMIZE_VERSION=v5.6.0
HELM_VERSION=v3.18.6

MESSAGES_LABEL=render-tools
# shellcheck source=scripts/lib/messages.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/messages.sh"

BIN="${KUBEFLOW_RENDER_BIN:-${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/render-tools/bin}"
mkdir -p "$BIN" || die "cannot create $BIN" "fix: set KUBEFLOW_TOOLS_DIR to a writable directory."

# Never let the go command switch to another toolchain behind our back.
export GOTOOLCHAIN=local
GO_VERSION=""
if command -v go >/dev/null 2>&1; then
  GO_VERSION="$(go env GOVERSION)"
fi

build() { # name package version ldflags
  local name="$1" package="$2" version="$3" ldflags="$4" stamp
  stamp="$version $GO_VERSION $ldflags"
  if [[ -x "$BIN/$name" && -f "$BIN/$name.version" ]]; then
    if [[ -z "$GO_VERSION" || "$(cat "$BIN/$name.version")" == "$stamp" ]]; then
      return 0 # up to date (or no go to rebuild with: keep it)
    fi
  fi
  [[ -n "$GO_VERSION" ]] || die "go is not on PATH; it is needed to build $name $version." \
    "fix: install Go and put it on PATH, or set KUBEFLOW_RENDER_BIN to a folder with" \
    "kustomize $KUSTOMIZE_VERSION and helm $HELM_VERSION."
  log "building $name $version ($package; see $BIN/$name.log)"
  if ! GOBIN="$BIN" go install -trimpath -ldflags "$ldflags" "$package@$version" \
    >"$BIN/$name.log" 2>&1; then
    tail -20 "$BIN/$name.log" >&2
    die "building $name $version failed (log: $BIN/$name.log)." \
      "fix: check that the Go module proxy is reachable (go env GOPROXY), then run this again."
  fi
  echo "$stamp" >"$BIN/$name.version"
}

build kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" \
  "-X sigs.k8s.io/kustomize/api/provenance.version=kustomize/$KUSTOMIZE_VERSION"
build helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
echo "$BIN"
