#!/usr/bin/env bash
# Build the binaries of the local simulated Kubernetes cluster from Go modules.
#
#   scripts/kube-tools.sh            # build what is missing, print the bin dir
#   BIN="$(scripts/kube-tools.sh | tail -n1)"
#
# Sources are the wrapper modules under tools/kube/ (pinned by their go.mod and
# go.sum): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl and the kwok controller. They are built into
#   ${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/kube-<k8s version>/bin
# A binary is rebuilt only when its stamp (wrapper go.mod + go.sum, Go version,
# link flags) changed, so a warm re-run takes well under a second.
# Progress goes to stderr; the last line on stdout is the bin dir.
# Needs: go (the version named in the wrapper go.mod files or newer) and the Go
# module proxy (or a warm module cache). Does not need Docker or the internet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBE_SRC="$ROOT/tools/kube"

log() { echo "kube-tools: $*" >&2; }
die() {
  echo "kube-tools: error: $1" >&2
  shift
  for line in "$@"; do echo "  $line" >&2; done
  exit 1
}

command -v go >/dev/null 2>&1 \
  || die "go is not on PATH." "fix: install Go (see tools/kube/*/go.mod for the minimum version)."
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is not on PATH." "fix: apt-get install coreutils"

# Never let the go command switch to another toolchain behind our back.
export GOTOOLCHAIN=local
GO_VERSION="$(go env GOVERSION)"

# Version of a module as required by a wrapper go.mod ("" if absent).
required_version() { # go.mod module
  awk -v m="$2" '($1 == m && $2 ~ /^v/) || ($1 == "require" && $2 == m) {
    print ($1 == "require" ? $3 : $2); exit }' "$1"
}

K8S_VERSION="$(required_version "$KUBE_SRC/kubernetes/go.mod" k8s.io/kubernetes)"
[[ "$K8S_VERSION" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] \
  || die "cannot read the k8s.io/kubernetes version from tools/kube/kubernetes/go.mod (got '$K8S_VERSION')."
K8S_MAJOR="${BASH_REMATCH[1]}"
K8S_MINOR="${BASH_REMATCH[2]}"

TOOLS_DIR="${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}"
BIN_DIR="$TOOLS_DIR/kube-$K8S_VERSION/bin"
mkdir -p "$BIN_DIR" || die "cannot create $BIN_DIR" "fix: set KUBEFLOW_TOOLS_DIR to a writable directory."

# One build at a time per bin dir (a test run and a developer may race).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BIN_DIR/.lock"
  if ! flock -n 9; then
    log "another kube-tools.sh is building into $BIN_DIR; waiting for it"
    flock 9
  fi
fi

# Minimum Go version: the highest `go` line of the wrapper modules.
need_go="$(awk '$1 == "go" {print $2}' "$KUBE_SRC"/*/go.mod | sort -V | tail -n1)"
have_go="${GO_VERSION#go}"
if [[ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]]; then
  die "Go $have_go is older than the $need_go the wrapper modules need." \
    "fix: install Go $need_go or newer and put it first on PATH."
fi

# Stamp of one binary: everything that decides its bytes.
stamp_of() { # module-dir binary ldflags
  {
    echo "$2"
    echo "$GO_VERSION"
    echo "$3"
    cat "$1/go.mod" "$1/go.sum"
  } | sha256sum | cut -d' ' -f1
}

is_fresh() { # binary stamp
  [[ -x "$BIN_DIR/$1" && -f "$BIN_DIR/.stamp-$1" && "$(cat "$BIN_DIR/.stamp-$1")" == "$2" ]]
}

# Build the given packages of one wrapper module into BIN_DIR.
#   build_group <module dir> <ldflags> <binary>=<package> ...
build_group() {
  local mod_dir="$1" ldflags="$2"
  shift 2
  local -a pkgs=() names=() stamps=()
  local spec name pkg stamp
  for spec in "$@"; do
    name="${spec%%=*}"
    pkg="${spec#*=}"
    stamp="$(stamp_of "$mod_dir" "$name" "$ldflags")"
    if is_fresh "$name" "$stamp"; then
      log "$name: up to date"
      continue
    fi
    pkgs+=("$pkg")
    names+=("$name")
    stamps+=("$stamp")
  done
  [[ ${#pkgs[@]} -eq 0 ]] && return 0

  local tmp start i
  tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  start=$SECONDS
  log "building ${names[*]} from tools/kube/$(basename "$mod_dir") (this can take many minutes cold)"
  if ! (cd "$mod_dir" && go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}") >&2; then
    rm -rf "$tmp"
    die "go build failed for ${names[*]} (module tools/kube/$(basename "$mod_dir"))." \
      "If go.sum is missing entries: (cd tools/kube/$(basename "$mod_dir") && GOTOOLCHAIN=local go mod tidy)" \
      "If a module cannot be downloaded: check that the Go module proxy is reachable (go env GOPROXY)."
  fi
  for i in "${!names[@]}"; do
    # go build names a binary after the last element of its import path, or
    # the one before a major-version suffix (go.etcd.io/etcd/server/v3: server).
    local exe
    exe="$(basename "${pkgs[$i]}")"
    [[ "$exe" =~ ^v[0-9]+$ ]] && exe="$(basename "$(dirname "${pkgs[$i]}")")"
    local built="$tmp/$exe"
    [[ -x "$built" ]] || die "go build did not produce $built"
    mv -f "$built" "$BIN_DIR/${names[$i]}"
    echo "${stamps[$i]}" >"$BIN_DIR/.stamp-${names[$i]}"
  done
  rm -rf "$tmp"
  log "built ${names[*]} in $((SECONDS - start))s"
}

# Link-time version of the Kubernetes binaries. Without it they report
# v0.0.0-master and clients such as pulumi-kubernetes reject the server.
k8s_ldflags() {
  # The release's commit and time, from the module proxy's .info record
  # (the proxy may omit the commit; the time is the tag's).
  local json info_file commit="" date=""
  if json="$(cd "$KUBE_SRC/kubernetes" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>/dev/null)"; then
    info_file="$(sed -n 's/.*"Info": "\([^"]*\)".*/\1/p' <<<"$json" | head -n1)"
    if [[ -n "$info_file" && -f "$info_file" ]]; then
      date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info_file")"
      commit="$(sed -n 's/.*"Hash":"\([0-9a-f]\{40\}\)".*/\1/p' "$info_file")"
    fi
  fi
  date="${date:-1970-01-01T00:00:00Z}"
  local -a flags=(-s -w)
  local pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=(
      "-X $pkg.gitVersion=$K8S_VERSION"
      "-X $pkg.gitMajor=$K8S_MAJOR"
      "-X $pkg.gitMinor=$K8S_MINOR"
      "-X $pkg.gitTreeState=clean"
      "-X $pkg.buildDate=$date"
    )
    # Unknown commit: empty rather than the source's "$Format:%H$" placeholder.
    flags+=("-X $pkg.gitCommit=$commit")
  done
  echo "${flags[*]}"
}

total_start=$SECONDS
log "Go $have_go, Kubernetes $K8S_VERSION, etcd $(required_version "$KUBE_SRC/etcd/go.mod" go.etcd.io/etcd/server/v3), kwok $(required_version "$KUBE_SRC/kwok/go.mod" sigs.k8s.io/kwok)"

# The ldflags need a module look-up: remember them per version and per
# revision of this script, so a warm run stays offline and fast.
k8s_flags_file="$BIN_DIR/.k8s-ldflags"
k8s_flags_key="$K8S_VERSION $(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
if [[ -f "$k8s_flags_file" ]] && [[ "$(head -n1 "$k8s_flags_file")" == "$k8s_flags_key" ]]; then
  k8s_flags="$(sed -n 2p "$k8s_flags_file")"
else
  k8s_flags="$(k8s_ldflags)"
  printf '%s\n%s\n' "$k8s_flags_key" "$k8s_flags" >"$k8s_flags_file"
fi

build_group "$KUBE_SRC/etcd" "-s -w" etcd=go.etcd.io/etcd/server/v3
build_group "$KUBE_SRC/kwok" "-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok
build_group "$KUBE_SRC/kubernetes" "$k8s_flags" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
  kubectl=k8s.io/kubernetes/cmd/kubectl

for b in etcd kwok kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b is missing after the build."
done
log "all binaries ready in $((SECONDS - total_start))s"
echo "$BIN_DIR"
