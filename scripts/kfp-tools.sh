#!/usr/bin/env bash
# Build the Kubeflow Pipelines API server and its S3 store, and install MariaDB,
# for the tests and the `local` stack's pipeline uploads (infra/kfp_server.py).
#
#   scripts/kfp-tools.sh             # build/install what is missing, print the bin dir
#   BIN="$(scripts/kfp-tools.sh | tail -n1)"
#
# - kfp-apiserver: backend/src/apiserver of KFP 2.15.0, built (cgo) from the source snapshot
#   ${KUBEFLOW_KFP_SOURCE:-<repo>/../shared/upstream-src/kubeflow-pipelines/2.15.0/source.tar.gz},
#   whose sha256 is checked. The Go module proxy refuses that module but serves its
#   dependencies. The source is unpacked into the tools cache, never into the repo.
#   This is the server whatever KFP version a stack installs in its cluster.
# - weed: SeaweedFS (the S3 store KFP 2.15 bundles), from the wrapper module tools/seaweedfs.
# - mariadbd: MariaDB from Debian (apt-get install mariadb-server, as root) when missing.
# Layout: ${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}/kfp-2.15.0/{bin,src}.
# A binary is rebuilt only when its stamp (source sha256 or wrapper go.mod/go.sum, Go
# version, flags) changed, so a warm re-run takes a second. The cold build prints a
# progress line at least every 30 s. Progress goes to stderr; the last stdout line is
# the bin dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KFP_VERSION="2.15.0"
KFP_SHA256="ce6fa713fafb9e476c4c5793157fa9f4550c1e329cfe6b6613c3704ebb5420ce"
KFP_SOURCE="${KUBEFLOW_KFP_SOURCE:-$ROOT/../shared/upstream-src/kubeflow-pipelines/$KFP_VERSION/source.tar.gz}"
WEED_SRC="$ROOT/tools/seaweedfs"

MESSAGES_LABEL=kfp-tools
# shellcheck source=scripts/lib/messages.sh
source "$ROOT/scripts/lib/messages.sh"

TOOLS_DIR="${KUBEFLOW_TOOLS_DIR:-$HOME/.cache/kubeflow-pulumi}"
BASE="$TOOLS_DIR/kfp-$KFP_VERSION"
BIN_DIR="$BASE/bin"
mkdir -p "$BIN_DIR" || die "cannot create $BIN_DIR" "fix: set KUBEFLOW_TOOLS_DIR to a writable directory."

# --- MariaDB (Debian) ----------------------------------------------------------

# Debian installs the server in /usr/sbin, which is not on every user's PATH.
DB_PATH="$PATH:/usr/sbin"
if PATH="$DB_PATH" command -v mariadbd >/dev/null 2>&1 && PATH="$DB_PATH" command -v mariadb-install-db >/dev/null 2>&1; then
  log "mariadb: $(PATH="$DB_PATH" mariadbd --version 2>/dev/null | head -n1)"
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  log "installing mariadb-server from Debian (apt-get)"
  apt_log="$TOOLS_DIR/.apt-mariadb.log"
  # Install only: the tests and the local stack start their own server in the netns.
  if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server \
    || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server; }; } \
    >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    die "apt-get install mariadb-server failed (log: $apt_log)." \
      "fix: make the Debian mirror reachable, or install MariaDB 10.11 (mariadbd, mariadb-install-db) yourself."
  fi
  # The package starts a system-wide server where it can; ours run in the netns instead.
  if [[ -x /etc/init.d/mariadb ]]; then /etc/init.d/mariadb stop >>"$apt_log" 2>&1 || true; fi
  rm -f "$apt_log"
  log "mariadb: $(PATH="$DB_PATH" mariadbd --version 2>/dev/null | head -n1)"
else
  die "MariaDB (mariadbd, mariadb-install-db) is not installed; the KFP API server needs it." \
    "fix: sudo apt-get install mariadb-server (or run make setup as root)."
fi

if command -v flock >/dev/null 2>&1; then
  exec 9>"$BASE/.lock"
  if ! flock -n 9; then
    log "another kfp-tools.sh is working in $BASE; waiting for it"
    flock 9
  fi
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH." "fix: install Go 1.24 or newer and put it on PATH."
export GOTOOLCHAIN=local
GO_VERSION="$(go env GOVERSION)"
total_start=$SECONDS

# run_with_progress <log file> <what> <command...>: run it, saying every 25 s that it still runs.
# A go build -v logs one line per package it compiles: that count is the progress.
run_with_progress() {
  local logf="$1" what="$2" start=$SECONDS pid
  shift 2
  "$@" >"$logf" 2>&1 &
  pid=$!
  while ! wait_for "$pid" 25; do
    if [[ "$what" == "go build"* ]]; then
      log "$what: still running ($((SECONDS - start))s, $(wc -l <"$logf") packages compiled)"
    else
      log "$what: still running ($((SECONDS - start))s)"
    fi
  done
  wait "$pid"
}
# wait_for <pid> <seconds>: true once the process has exited, false after the timeout.
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 1
  done
  ! kill -0 "$1" 2>/dev/null
}

build_failed() { # log-file what dir
  tail -n 25 "$1" >&2
  die "$2 failed (in $3; full log: $1)." \
    "If a module could not be fetched: make the Go module proxy reachable (go env GOPROXY is '$(go env GOPROXY)')," \
    "or warm the module cache ($(go env GOMODCACHE)) on a machine that reaches it." \
    "If cgo failed: install gcc (apt-get install gcc libc6-dev)."
}

# --- the KFP API server ------------------------------------------------------

SRC_DIR="$BASE/src"
server_flags="-s -w"
server_stamp="$(printf '%s\n' kfp-apiserver "$KFP_SHA256" "$GO_VERSION" "$server_flags" | sha256sum | cut -d' ' -f1)"
if [[ -x "$BIN_DIR/kfp-apiserver" && "$(cat "$BIN_DIR/.stamp-kfp-apiserver" 2>/dev/null)" == "$server_stamp" ]]; then
  log "kfp-apiserver $KFP_VERSION: up to date"
else
  [[ -f "$KFP_SOURCE" ]] || die "the KFP $KFP_VERSION source snapshot is not at $KFP_SOURCE." \
    "fix: set KUBEFLOW_KFP_SOURCE to the source.tar.gz described in ../shared/upstream-src/README.md."
  got_sha="$(sha256sum "$KFP_SOURCE" | cut -d' ' -f1)"
  [[ "$got_sha" == "$KFP_SHA256" ]] || die "$KFP_SOURCE has sha256 $got_sha, not $KFP_SHA256 (KFP $KFP_VERSION)." \
    "fix: point KUBEFLOW_KFP_SOURCE at the untouched 2.15.0 snapshot."
  command -v gcc >/dev/null 2>&1 || die "gcc is not on PATH; the API server links go-sqlite3 with cgo." \
    "fix: apt-get install gcc libc6-dev"
  if [[ "$(cat "$SRC_DIR/.sha256" 2>/dev/null)" != "$KFP_SHA256" ]]; then
    log "unpacking $(basename "$KFP_SOURCE") into $SRC_DIR"
    rm -rf "$SRC_DIR"
    mkdir -p "$SRC_DIR"
    tar -xzf "$KFP_SOURCE" -C "$SRC_DIR" --strip-components=1
    echo "$KFP_SHA256" >"$SRC_DIR/.sha256"
  fi
  start=$SECONDS
  log "downloading the API server's Go modules (cold: about 30 s)"
  run_with_progress "$BASE/.download.log" "go mod download" \
    bash -c "cd '$SRC_DIR' && go mod download" || build_failed "$BASE/.download.log" "go mod download" "$SRC_DIR"
  log "building kfp-apiserver $KFP_VERSION (cold: 7-10 min on 2 cores; warm: under a minute)"
  tmp="$(mktemp "$BIN_DIR/.kfp-apiserver.XXXXXX")"
  if ! run_with_progress "$BASE/.build.log" "go build kfp-apiserver" \
    env CGO_ENABLED=1 bash -c "cd '$SRC_DIR' && go build -v -mod=readonly -trimpath -buildvcs=false \
      -ldflags '$server_flags' -o '$tmp' ./backend/src/apiserver"; then
    rm -f "$tmp"
    build_failed "$BASE/.build.log" "go build ./backend/src/apiserver" "$SRC_DIR"
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$BIN_DIR/kfp-apiserver"
  echo "$server_stamp" >"$BIN_DIR/.stamp-kfp-apiserver"
  rm -f "$BASE/.build.log" "$BASE/.download.log"
  log "built kfp-apiserver in $((SECONDS - start))s"
fi
# The server reads its defaults from a folder holding config.json; keep the upstream one.
mkdir -p "$BASE/config"
if ! cmp -s "$SRC_DIR/backend/src/apiserver/config/config.json" "$BASE/config/config.json" 2>/dev/null; then
  [[ -f "$SRC_DIR/backend/src/apiserver/config/config.json" ]] \
    || die "$SRC_DIR/backend/src/apiserver/config/config.json is missing." "fix: rm -rf $BASE and run this again."
  cp "$SRC_DIR/backend/src/apiserver/config/config.json" "$BASE/config/config.json"
fi

# --- SeaweedFS (the S3 store) -------------------------------------------------

weed_flags="-s -w"
weed_stamp="$({
  echo weed
  echo "$GO_VERSION"
  echo "$weed_flags"
  cat "$WEED_SRC/go.mod" "$WEED_SRC/go.sum"
} | sha256sum | cut -d' ' -f1)"
if [[ -x "$BIN_DIR/weed" && "$(cat "$BIN_DIR/.stamp-weed" 2>/dev/null)" == "$weed_stamp" ]]; then
  log "weed: up to date"
else
  start=$SECONDS
  log "building weed (SeaweedFS) from tools/seaweedfs (cold: many minutes; warm: under a minute)"
  tmp="$(mktemp "$BIN_DIR/.weed.XXXXXX")"
  if ! run_with_progress "$BASE/.build-weed.log" "go build weed" \
    bash -c "cd '$WEED_SRC' && go build -v -mod=readonly -trimpath -buildvcs=false \
      -ldflags '$weed_flags' -o '$tmp' github.com/seaweedfs/seaweedfs/weed"; then
    rm -f "$tmp"
    build_failed "$BASE/.build-weed.log" "go build of weed" "tools/seaweedfs"
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$BIN_DIR/weed"
  echo "$weed_stamp" >"$BIN_DIR/.stamp-weed"
  rm -f "$BASE/.build-weed.log"
  log "built weed in $((SECONDS - start))s"
fi

log "ready in $((SECONDS - total_start))s"
echo "$BIN_DIR"
