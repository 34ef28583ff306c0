#!/usr/bin/env bash
# The binaries of the local simulated Kubernetes cluster: found at their pinned
# versions, or built from Go modules.
#
#   scripts/kube-tools.sh            # find or build what is missing, print the bin dir
#   BIN="$(scripts/kube-tools.sh | tail -n1)"
#
# Sources are the wrapper modules under tools/kube/ (pinned by their go.mod and
# go.sum): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok (the fake kubelets) and kwokctl (which starts the cluster from
# these binaries). They go into
#   ${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/kube-<k8s version>/bin
# and kwok's own Stage files of the pinned kwok release into .../kwok-stages.
# A binary already on PATH (or in $KUBEBUILDER_ASSETS, where envtest keeps etcd
# and kube-apiserver) that reports exactly the pinned version is linked instead
# of built; any other version (e.g. a distribution's kubectl) is left alone.
# A built binary is rebuilt only when its stamp (wrapper go.mod + go.sum, Go
# version, link flags) changed, so a warm re-run takes well under a second.
# Long builds print their progress every 30 s (KUBEFLOW_PROGRESS_SECONDS).
# Progress goes to stderr; the last line on stdout is the bin dir.
# Needs: go (the version named in the wrapper go.mod files or newer) and the Go
# module proxy (or a warm module cache), unless every binary is found.
# Does not need Docker or the internet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBE_SRC="$ROOT/tools/kube"
# shellcheck source=scripts/lib/go-build-progress.sh
source "$ROOT/scripts/lib/go-build-progress.sh"

MESSAGES_LABEL=kube-tools
# shellcheck source=scripts/lib/messages.sh
source "$ROOT/scripts/lib/messages.sh"

command -v sha256sum >/dev/null 2>&1 || die "sha256sum is not on PATH." "fix: apt-get install coreutils"

# Never let the go command switch to another toolchain behind our back.
export GOTOOLCHAIN=local
GO_VERSION=""
if command -v go >/dev/null 2>&1; then
  GO_VERSION="$(go env GOVERSION)"
fi

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
ETCD_VERSION="$(required_version "$KUBE_SRC/etcd/go.mod" go.etcd.io/etcd/server/v3)"
KWOK_VERSION="$(required_version "$KUBE_SRC/kwok/go.mod" sigs.k8s.io/kwok)"

# The version each binary must report to be used.
pinned_version() { # binary
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;;
    kwok | kwokctl) echo "$KWOK_VERSION" ;;
    *) echo "$K8S_VERSION" ;;
  esac
}

TOOLS_DIR="${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}"
BIN_DIR="$TOOLS_DIR/kube-$K8S_VERSION/bin"
STAGES_DIR="$TOOLS_DIR/kube-$K8S_VERSION/kwok-stages"
mkdir -p "$BIN_DIR" || die "cannot create $BIN_DIR" "fix: set KUBEFLOW_TOOLS_DIR to a writable directory."

# One build at a time per bin dir (a test run and a developer may race).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BIN_DIR/.lock"
  if ! flock -n 9; then
    log "another kube-tools.sh is building into $BIN_DIR; waiting for it"
    flock 9
  fi
fi

# Go is needed only when something must be built or downloaded.
need_go() { # what-for
  [[ -n "$GO_VERSION" ]] || die "go is not on PATH; it is needed for $1." \
    "fix: install Go (see tools/kube/*/go.mod for the minimum version), or put the binary at its pinned version on PATH."
  local need have="${GO_VERSION#go}"
  need="$(awk '$1 == "go" {print $2}' "$KUBE_SRC"/*/go.mod | sort -V | tail -n1)"
  if [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]]; then
    die "Go $have is older than the $need the wrapper modules need." \
      "fix: install Go $need or newer and put it first on PATH."
  fi
}

# --- binaries already installed -----------------------------------------------

# The version a binary reports, normalised to vX.Y.Z ("" if it reports none).
reported_version() { # path name
  local out
  case "$2" in
    kubectl) out="$(timeout 20 "$1" version --client -o json 2>/dev/null || true)"
      sed -n 's/^ *"gitVersion": *"\([^"]*\)".*/\1/p' <<<"$out" | head -n1 ;;
    etcd) out="$(timeout 20 "$1" --version 2>/dev/null || true)"
      sed -n 's/^etcd Version: *\([^ ]*\)$/v\1/p' <<<"$out" | head -n1 ;;
    kwok | kwokctl) out="$(timeout 20 "$1" --version 2>/dev/null || true)"
      awk -v n="$2" '$1 == n && $2 == "version" {print $3; exit}' <<<"$out" ;;
    *) out="$(timeout 20 "$1" --version 2>/dev/null || true)"
      awk '$1 == "Kubernetes" {print $2; exit}' <<<"$out" ;;
  esac
}

# The first <name> on PATH (then in $KUBEBUILDER_ASSETS) outside BIN_DIR that
# reports exactly the pinned version; prints nothing if there is none.
find_installed() { # name
  local name="$1" want dir bin got here
  want="$(pinned_version "$name")"
  here="$(cd "$BIN_DIR" && pwd -P)"
  local -a dirs=()
  IFS=: read -r -a dirs <<<"${PATH:-}"
  [[ -n "${KUBEBUILDER_ASSETS:-}" ]] && dirs+=("$KUBEBUILDER_ASSETS")
  for dir in "${dirs[@]}"; do
    bin="$dir/$name"
    [[ -n "$dir" && -x "$bin" && ! -d "$bin" ]] || continue
    [[ "$(dirname "$(readlink -f "$bin")")" == "$here" ]] && continue
    got="$(reported_version "$bin" "$name")"
    if [[ "$got" == "$want" ]]; then
      readlink -f "$bin"
      return 0
    fi
    log "$name: $bin reports ${got:-no version}, not $want: not using it"
  done
}

# Link <name> from an installed copy at the pinned version; false if there is none.
link_installed() { # name
  local name="$1" found
  found="$(find_installed "$name")"
  [[ -n "$found" ]] || return 1
  if [[ "$(readlink "$BIN_DIR/$name" 2>/dev/null || true)" != "$found" ]]; then
    rm -f "$BIN_DIR/$name"
    ln -s "$found" "$BIN_DIR/$name"
  fi
  echo "installed $found" >"$BIN_DIR/.stamp-$name"
  log "$name: using $found ($(pinned_version "$name"))"
}

# --- building -------------------------------------------------------------------

# Stamp of one built binary: everything that decides its bytes.
stamp_of() { # module-dir binary ldflags
  {
    echo "$2"
    echo "$GO_VERSION"
    echo "$3"
    cat "$1/go.mod" "$1/go.sum"
  } | sha256sum | cut -d' ' -f1
}

is_fresh() { # binary stamp
  [[ -x "$BIN_DIR/$1" && ! -L "$BIN_DIR/$1" && -f "$BIN_DIR/.stamp-$1" \
    && "$(cat "$BIN_DIR/.stamp-$1")" == "$2" ]]
}

# Find or build the given packages of one wrapper module into BIN_DIR.
#   build_group <module dir> <ldflags> <binary>=<package> ...
build_group() {
  local mod_dir="$1" ldflags="$2"
  shift 2
  local -a pkgs=() names=() stamps=()
  local spec name pkg stamp
  for spec in "$@"; do
    name="${spec%%=*}"
    pkg="${spec#*=}"
    stamp=""
    [[ -n "$GO_VERSION" ]] && stamp="$(stamp_of "$mod_dir" "$name" "$ldflags")"
    if [[ -n "$stamp" ]] && is_fresh "$name" "$stamp"; then
      log "$name: up to date"
      continue
    fi
    if [[ -z "$GO_VERSION" && -x "$BIN_DIR/$name" && ! -L "$BIN_DIR/$name" && -f "$BIN_DIR/.stamp-$name" ]]; then
      log "$name: go is not on PATH, keeping the existing build"
      continue
    fi
    link_installed "$name" && continue
    need_go "$name"
    pkgs+=("$pkg")
    names+=("$name")
    stamps+=("$stamp")
  done
  [[ ${#pkgs[@]} -eq 0 ]] && return 0

  local tmp start i module total logf
  module="tools/kube/$(basename "$mod_dir")"
  tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  logf="$tmp/build.log"
  start=$SECONDS
  total="$(cd "$mod_dir" && go_package_count "${pkgs[@]}")"
  log "building ${names[*]} from $module: $total packages (cold: many minutes; progress every ${KUBEFLOW_PROGRESS_SECONDS:-30}s)"
  if ! (cd "$mod_dir" && go_build_progress "kube-tools: building ${names[*]}" "$logf" "$total" \
    -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"); then
    go_build_errors "$logf" >&2
    rm -rf "$tmp"
    die "go build failed for ${names[*]} (module $module)." \
      "If go.sum is missing entries: (cd $module && GOTOOLCHAIN=local go mod tidy)" \
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
    rm -f "$BIN_DIR/${names[$i]}"
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

# kwok's Stage files of the pinned release (the fake kubelet's behaviour), from
# the kwok module itself; infra/local_cluster.py adds delays to them.
#   node/fast/node-initialize, node/heartbeat-with-lease, pod/fast/pod-{ready,complete,delete}
KWOK_STAGE_FILES=(
  node/fast/node-initialize.yaml
  node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml
  pod/fast/pod-complete.yaml
  pod/fast/pod-delete.yaml
)
install_stages() {
  local stamp="$KWOK_VERSION ${KWOK_STAGE_FILES[*]}" f
  if [[ -f "$STAGES_DIR/.stamp" && "$(cat "$STAGES_DIR/.stamp")" == "$stamp" ]]; then
    log "kwok stages: up to date"
    return 0
  fi
  need_go "kwok's stages (sigs.k8s.io/kwok $KWOK_VERSION)"
  local json dir
  json="$(cd "$KUBE_SRC/kwok" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION")" \
    || die "cannot download sigs.k8s.io/kwok@$KWOK_VERSION for its stages." \
      "fix: check that the Go module proxy is reachable (go env GOPROXY)."
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" | head -n1)"
  rm -rf "$STAGES_DIR"
  mkdir -p "$STAGES_DIR"
  for f in "${KWOK_STAGE_FILES[@]}"; do
    [[ -f "$dir/kustomize/stage/$f" ]] || die "kwok $KWOK_VERSION has no kustomize/stage/$f"
    install -m 644 "$dir/kustomize/stage/$f" "$STAGES_DIR/$(basename "$f")"
  done
  echo "$stamp" >"$STAGES_DIR/.stamp"
  log "kwok stages of $KWOK_VERSION in $STAGES_DIR"
}

total_start=$SECONDS
log "${GO_VERSION:-no Go}, Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION"

# The ldflags need a module look-up: remember them per version and per
# revision of this script, so a warm run stays offline and fast.
k8s_flags=""
k8s_flags_file="$BIN_DIR/.k8s-ldflags"
k8s_flags_key="$K8S_VERSION $(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
if [[ -f "$k8s_flags_file" ]] && [[ "$(head -n1 "$k8s_flags_file")" == "$k8s_flags_key" ]]; then
  k8s_flags="$(sed -n 2p "$k8s_flags_file")"
elif [[ -n "$GO_VERSION" ]]; then
  k8s_flags="$(k8s_ldflags)"
  printf '%s\n%s\n' "$k8s_flags_key" "$k8s_flags" >"$k8s_flags_file"
fi

build_group "$KUBE_SRC/etcd" "-s -w" etcd=go.etcd.io/etcd/server/v3
build_group "$KUBE_SRC/kwok" "-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok kwokctl=sigs.k8s.io/kwok/cmd/kwokctl
build_group "$KUBE_SRC/kubernetes" "$k8s_flags" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
  kubectl=k8s.io/kubernetes/cmd/kubectl
install_stages

for b in etcd kwok kwokctl kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b is missing after the build."
done
log "all binaries ready in $((SECONDS - total_start))s"
echo "$BIN_DIR"
