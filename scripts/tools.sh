#!/usr/bin/env bash
# Make the Pulumi engine of this project available, offline, from Go modules.
#
#   scripts/tools.sh                 # build/locate what is missing, print the bin dir
#   BIN="$(scripts/tools.sh | tail -n1)"
#   source scripts/env.sh            # then: pulumi version, pulumi plugin ls, ...
#
# Versions come from the pins in pyproject.toml (pulumi==X, pulumi-kubernetes==Y)
# and are checked against the wrapper modules under tools/pulumi/, which pin the
# sources (see docs/tools.md):
#   tools/pulumi/cli              the CLI/engine, github.com/pulumi/pulumi/pkg/v3 vX
#   tools/pulumi/language-python  the Python language host, on sdk/v3 vX, plus
#                                 the SDK's pulumi-language-python-exec shim
#   tools/pulumi/kubernetes       the Kubernetes provider vY
# Layout, under ${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/pulumi-vX-kubernetes-vY/:
#   bin/      pulumi, pulumi-language-python, pulumi-language-python-exec (on PATH)
#   libexec/  pulumi-resource-kubernetes as built (not on PATH)
#   home/     PULUMI_HOME; the provider is installed in it with
#             `pulumi plugin install resource kubernetes vY --file ...`
# If a pulumi vX is already on PATH it is used (symlinked into bin/, with the
# language host next to it if it has one) and only what is missing is built.
# A provider vY already in ~/.pulumi (or $PULUMI_HOME) is installed from there.
# A binary is rebuilt only when its stamp (wrapper go.mod, go.sum and sources,
# Go version, link flags) changed, so a warm re-run takes a few seconds.
# Progress goes to stderr; the last line on stdout is the bin dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/tools/pulumi"

MESSAGES_LABEL=pulumi-tools
# shellcheck source=scripts/lib/messages.sh
source "$ROOT/scripts/lib/messages.sh"

# shellcheck source=scripts/lib/go-build-progress.sh
source "$ROOT/scripts/lib/go-build-progress.sh"

# Where a user's own Pulumi keeps its plugins, before env.sh points PULUMI_HOME at ours.
USER_PULUMI_HOME="${PULUMI_HOME:-$HOME/.pulumi}"

# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

PV="$KUBEFLOW_PULUMI_VERSION"
KV="$KUBEFLOW_PULUMI_KUBERNETES_VERSION"
[[ "$PV" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the pulumi==X.Y.Z pin from pyproject.toml (got '$PV')."
[[ "$KV" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
  || die "cannot read the pulumi-kubernetes==X.Y.Z pin from pyproject.toml (got '$KV')."

BIN_DIR="$KUBEFLOW_PULUMI_BIN"
BASE="$(dirname "$BIN_DIR")"
LIBEXEC="$BASE/libexec"
mkdir -p "$BIN_DIR" "$LIBEXEC" "$PULUMI_HOME" \
  || die "cannot create $BASE" "fix: set KUBEFLOW_TOOLS_DIR to a writable directory."

# The provider module is served only as a pseudo-version of its release commit.
case "$KV" in
  4.25.0) K8S_MODULE_VERSION="v4.0.0-20260115033456-f47bc2d6f199" ;; # commit f47bc2d6f199 = v4.25.0
  *) die "no provider source is pinned for pulumi-kubernetes $KV (pyproject.toml)." \
    "fix: set require github.com/pulumi/pulumi-kubernetes/provider/v4 in tools/pulumi/kubernetes/go.mod" \
    "to the module version of the v$KV release, add it to the case in scripts/tools.sh, and run" \
    "(cd tools/pulumi/kubernetes && go mod tidy); or pin pulumi-kubernetes==4.25.0 again." ;;
esac

# Version of a module as required by a wrapper go.mod ("" if absent).
required_version() { # go.mod module
  awk -v m="$2" '($1 == m && $2 ~ /^v/) || ($1 == "require" && $2 == m) {
    print ($1 == "require" ? $3 : $2); exit }' "$1"
}
check_pin() { # go.mod module want
  local got
  got="$(required_version "$1" "$2")"
  [[ "$got" == "$3" ]] || die "${1#"$ROOT"/} requires $2 ${got:-(nothing)}, but pyproject.toml asks for $3." \
    "fix: set that require to $3 and run (cd $(dirname "${1#"$ROOT"/}") && go mod tidy)."
}
check_pin "$SRC/cli/go.mod" github.com/pulumi/pulumi/pkg/v3 "v$PV"
check_pin "$SRC/cli/go.mod" github.com/pulumi/pulumi/sdk/v3 "v$PV"
check_pin "$SRC/language-python/go.mod" github.com/pulumi/pulumi/sdk/v3 "v$PV"
check_pin "$SRC/kubernetes/go.mod" github.com/pulumi/pulumi-kubernetes/provider/v4 "$K8S_MODULE_VERSION"

# One run at a time per tools dir (make setup, a test run and CI may race).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BASE/.lock"
  if ! flock -n 9; then
    log "another scripts/tools.sh is working in $BASE; waiting for it"
    flock 9
  fi
fi

# Pulumi commands run in the loopback-only network namespace where we can make one.
run_offline() {
  if [[ "$(id -u)" == 0 || -n "${KUBEFLOW_NETNS:-}" ]] && command -v ip >/dev/null 2>&1; then
    "$ROOT/scripts/netns.sh" "$@"
  else
    "$@"
  fi
}

# Go is needed only when something must be built.
GO_READY=""
need_go() { # what-for
  [[ -n "$GO_READY" ]] && return 0
  command -v go >/dev/null 2>&1 || die "go is not on PATH; it is needed to build $1." \
    "fix: install Go $(min_go) or newer and put it on PATH, or put a pulumi v$PV (with its" \
    "pulumi-language-python) on PATH and a kubernetes v$KV plugin in ~/.pulumi/plugins."
  # Never let the go command switch to another toolchain behind our back.
  export GOTOOLCHAIN=local
  GO_VERSION="$(go env GOVERSION)"
  local need have="${GO_VERSION#go}"
  need="$(min_go)"
  if [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]]; then
    die "Go $have is older than the $need the wrapper modules in tools/pulumi need." \
      "fix: install Go $need or newer and put it first on PATH."
  fi
  GO_READY=1
}
min_go() { awk '$1 == "go" {print $2}' "$SRC"/*/go.mod | sort -V | tail -n1; }

# Stamp of one binary: everything that decides its bytes.
stamp_of() { # module-dir name ldflags
  {
    echo "$2"
    echo "${GO_VERSION:-}"
    echo "$3"
    cat "$1/go.mod" "$1/go.sum"
    find "$1" -name '*.go' -type f | LC_ALL=C sort | xargs -r cat
  } | sha256sum | cut -d' ' -f1
}

# up_to_date <binary> <module-dir> <ldflags>: the binary exists and its stamp
# matches. Without Go nothing can be rebuilt, so an existing build is kept.
up_to_date() {
  local name
  name="$(basename "$1")"
  if [[ -z "$GO_READY" ]] && ! command -v go >/dev/null 2>&1; then
    if [[ -x "$1" && -f "$1.stamp" ]]; then
      log "$name: go is not on PATH, keeping the existing build"
      return 0
    fi
    return 1
  fi
  GO_VERSION="${GO_VERSION:-$(GOTOOLCHAIN=local go env GOVERSION)}"
  [[ -x "$1" && -f "$1.stamp" && "$(cat "$1.stamp")" == "$(stamp_of "$2" "$name" "$3")" ]]
}

go_failed() { # log-file what module-dir
  local rel="${3#"$ROOT"/}"
  go_build_errors "$1" >&2
  local -a fix=()
  if grep -qiE 'missing go.sum entry|updates to go.(mod|sum) needed' "$1"; then
    fix+=("fix: go.sum is out of date: (cd $rel && GOTOOLCHAIN=local go mod tidy), then commit go.mod and go.sum.")
  fi
  if grep -qiE 'dial tcp|no such host|proxyconnect|i/o timeout|lookup disabled|connection refused|TLS handshake|403 Forbidden|404 Not Found|410 Gone|not available|unrecognized import path|reading https?://' "$1"; then
    fix+=("a module could not be fetched (the pins: $rel/go.mod; pulumi v$PV, pulumi-kubernetes v$KV = provider module $K8S_MODULE_VERSION)."
      "fix: make the Go module proxy reachable (go env GOPROXY is '$(go env GOPROXY)'), or warm the module"
      "cache on a machine that reaches it: (cd $rel && go mod download) and copy $(go env GOMODCACHE).")
  fi
  [[ ${#fix[@]} -gt 0 ]] || fix=("see the go output above (full log: $1).")
  die "$2 failed (module $rel)." "${fix[@]}"
}

# go build one package of a wrapper module to a path, atomically, and stamp it.
#   go_build <module dir> <package> <output> <ldflags> [go build flags...]
go_build() {
  local mod_dir="$1" pkg="$2" out="$3" ldflags="$4"
  shift 4
  local name tmp logf start total
  name="$(basename "$out")"
  tmp="$(mktemp "$out.build.XXXXXX")"
  logf="$BASE/.build-$name.log"
  start=$SECONDS
  total="$(cd "$mod_dir" && go_package_count "$@" "$pkg")"
  log "building $name from ${mod_dir#"$ROOT"/}: $total packages (cold: many minutes; progress every ${KUBEFLOW_PROGRESS_SECONDS:-30}s)"
  if ! (cd "$mod_dir" && go_build_progress "pulumi-tools: building $name" "$logf" "$total" \
    -mod=readonly -trimpath -buildvcs=false "$@" -ldflags "$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp"
    go_failed "$logf" "go build of $name" "$mod_dir"
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$out"
  rm -f "$logf"
  log "built $name in $((SECONDS - start))s"
}

# --- the CLI -----------------------------------------------------------------

VERSION_LDFLAG="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PV"
total_start=$SECONDS
log "pulumi v$PV, pulumi-kubernetes v$KV -> $BASE"

# A pulumi vX already on PATH (outside our bin dir) wins over building one.
existing_pulumi=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  [[ -n "$dir" && -x "$dir/pulumi" && ! -d "$dir/pulumi" ]] || continue
  [[ "$(cd "$dir" 2>/dev/null && pwd -P)" == "$(cd "$BIN_DIR" && pwd -P)" ]] && continue
  if [[ "$(run_offline "$dir/pulumi" version 2>/dev/null || true)" == "v$PV" ]]; then
    existing_pulumi="$(readlink -f "$dir/pulumi")"
    break
  fi
done

host_from_existing=""
if [[ -n "$existing_pulumi" ]]; then
  existing_dir="$(dirname "$existing_pulumi")"
  if [[ -x "$existing_dir/pulumi-language-python" && -f "$existing_dir/pulumi-language-python-exec" ]]; then
    # The engine finds its language host next to the (resolved) pulumi binary.
    log "using pulumi v$PV and its Python language host from $existing_dir"
    host_from_existing=1
    for f in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
      [[ "$(readlink "$BIN_DIR/$f" 2>/dev/null || true)" == "$existing_dir/$f" ]] \
        || ln -sfn "$existing_dir/$f" "$BIN_DIR/$f"
      rm -f "$BIN_DIR/$f.stamp"
    done
  else
    # Copied, not linked: the engine looks for its language host next to the
    # resolved binary, and that one has none.
    log "using pulumi v$PV from $existing_dir (it has no pulumi-language-python; building ours next to a copy)"
    if [[ -L "$BIN_DIR/pulumi" ]] || ! cmp -s "$existing_pulumi" "$BIN_DIR/pulumi"; then
      rm -f "$BIN_DIR/pulumi"
      cp "$existing_pulumi" "$BIN_DIR/pulumi"
    fi
    rm -f "$BIN_DIR/pulumi.stamp"
  fi
else
  cli_flags="-s -w $VERSION_LDFLAG"
  # A symlink left from an earlier run with a pre-installed pulumi is not ours to keep.
  for f in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
    [[ -L "$BIN_DIR/$f" ]] && rm -f "$BIN_DIR/$f"
  done
  if up_to_date "$BIN_DIR/pulumi" "$SRC/cli" "$cli_flags"; then
    log "pulumi: up to date"
  else
    need_go "the Pulumi CLI v$PV (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)"
    go_build "$SRC/cli" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$BIN_DIR/pulumi" "$cli_flags"
    stamp_of "$SRC/cli" pulumi "$cli_flags" >"$BIN_DIR/pulumi.stamp"
  fi
fi

# --- the Python language host ------------------------------------------------

if [[ -z "$host_from_existing" ]]; then
  host_flags="-s -w $VERSION_LDFLAG"
  if up_to_date "$BIN_DIR/pulumi-language-python" "$SRC/language-python" "$host_flags" \
    && [[ -x "$BIN_DIR/pulumi-language-python-exec" ]] \
    && [[ -x "$BIN_DIR/pulumi-resource-pulumi-python" ]]; then
    log "pulumi-language-python: up to date"
  else
    need_go "the Python language host (tools/pulumi/language-python, on github.com/pulumi/pulumi/sdk/v3 v$PV)"
    go_build "$SRC/language-python" . "$BIN_DIR/pulumi-language-python" "$host_flags"
    # The exec shim ships in the SDK module's python/cmd folder.
    sdk_json_log="$BASE/.build-sdk-download.log"
    if ! (cd "$SRC/language-python" && go mod download -json github.com/pulumi/pulumi/sdk/v3) \
      >"$sdk_json_log" 2>&1; then
      go_failed "$sdk_json_log" "go mod download github.com/pulumi/pulumi/sdk/v3@v$PV" "$SRC/language-python"
    fi
    sdk_dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$sdk_json_log" | head -n1)"
    rm -f "$sdk_json_log"
    exec_src="$sdk_dir/python/cmd/pulumi-language-python-exec"
    [[ -f "$exec_src" ]] || die "pulumi-language-python-exec is not at $exec_src (sdk/v3 v$PV module)."
    install -m 755 "$exec_src" "$BIN_DIR/pulumi-language-python-exec"
    # Dynamic providers (the local cluster, the pipeline uploads) run through this launcher.
    dynamic_src="$sdk_dir/python/dist/pulumi-resource-pulumi-python"
    [[ -f "$dynamic_src" ]] || die "pulumi-resource-pulumi-python is not at $dynamic_src (sdk/v3 v$PV module)."
    install -m 755 "$dynamic_src" "$BIN_DIR/pulumi-resource-pulumi-python"
    stamp_of "$SRC/language-python" pulumi-language-python "$host_flags" >"$BIN_DIR/pulumi-language-python.stamp"
  fi
fi

# --- the Kubernetes provider -------------------------------------------------

PROVIDER="$LIBEXEC/pulumi-resource-kubernetes"
provider_flags="-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KV"
user_plugin="$USER_PULUMI_HOME/plugins/resource-kubernetes-v$KV/pulumi-resource-kubernetes"
plugin_file="$PULUMI_HOME/plugins/resource-kubernetes-v$KV/pulumi-resource-kubernetes"

if [[ "$(readlink -f "$user_plugin" 2>/dev/null || true)" != "$(readlink -f "$plugin_file" 2>/dev/null || echo none)" \
  && -x "$user_plugin" && ! -x "$PROVIDER" ]]; then
  log "using the kubernetes v$KV plugin already installed in $USER_PULUMI_HOME"
  provider_src="$user_plugin"
else
  provider_src="$PROVIDER"
  if up_to_date "$PROVIDER" "$SRC/kubernetes" "$provider_flags"; then
    log "pulumi-resource-kubernetes: up to date"
  else
    need_go "the Kubernetes provider v$KV (github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_MODULE_VERSION)"
    # The provider's main package embeds files generated at release time; make
    # them (and an overlay that places them) first.
    gen_dir="$BASE/build-kubernetes"
    rm -rf "$gen_dir"
    mkdir -p "$gen_dir"
    gen_log="$BASE/.build-genembed.log"
    gen_start=$SECONDS
    log "generating the provider's embedded schema (version $KV)"
    if ! (cd "$SRC/kubernetes" && go run -mod=readonly -trimpath -buildvcs=false ./genembed \
      -version "$KV" -out "$gen_dir") >"$gen_log" 2>&1; then
      go_failed "$gen_log" "generating the provider schema" "$SRC/kubernetes"
    fi
    rm -f "$gen_log"
    log "generated in $((SECONDS - gen_start))s"
    go_build "$SRC/kubernetes" ./cmd/pulumi-resource-kubernetes "$PROVIDER" "$provider_flags" \
      -overlay "$gen_dir/overlay.json"
    stamp_of "$SRC/kubernetes" pulumi-resource-kubernetes "$provider_flags" >"$PROVIDER.stamp"
    rm -rf "$gen_dir"
  fi
fi

if [[ -x "$plugin_file" ]] && { [[ "$provider_src" -ef "$plugin_file" ]] || cmp -s "$provider_src" "$plugin_file"; }; then
  log "kubernetes v$KV plugin: installed in $PULUMI_HOME"
else
  log "installing the kubernetes v$KV plugin into $PULUMI_HOME"
  run_offline "$BIN_DIR/pulumi" plugin install resource kubernetes "v$KV" --file "$provider_src" --reinstall >&2 \
    || die "pulumi plugin install resource kubernetes v$KV --file $provider_src failed."
fi
# The plugin cache holds a byte-identical copy of the build: share its disk blocks (300 MB).
if [[ "$provider_src" == "$PROVIDER" && ! "$PROVIDER" -ef "$plugin_file" ]] && cmp -s "$PROVIDER" "$plugin_file"; then
  ln -f "$plugin_file" "$PROVIDER" 2>/dev/null || true
fi

# --- check -------------------------------------------------------------------

got="$(run_offline "$BIN_DIR/pulumi" version)" || die "$BIN_DIR/pulumi does not run."
[[ "$got" == "v$PV" ]] || die "$BIN_DIR/pulumi reports $got, not v$PV."
for f in pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
  [[ -x "$BIN_DIR/$f" ]] || die "$BIN_DIR/$f is missing."
done
[[ -x "$plugin_file" ]] || die "the kubernetes v$KV plugin is not in $PULUMI_HOME/plugins."
log "ready in $((SECONDS - total_start))s: source scripts/env.sh to use it"
echo "$BIN_DIR"
