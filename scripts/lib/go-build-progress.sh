# shellcheck shell=bash
# Long `go build`s that say what they build and how far along they are.
# Sourced by scripts/tools.sh and scripts/kube-tools.sh.
#
#   total="$(go_package_count <package>...)"            # run in the module dir
#   go_build_progress <label> <log file> <total> <go build args...>
#
# go_build_progress runs `go build -v <args>` with its output in the log file and,
# every ${KUBEFLOW_PROGRESS_SECONDS:-30} seconds, prints to stderr
#   <label>: 4m30s, 612 of 1874 packages compiled
# (`go build -v` names each package it compiles; packages already in the Go build
# cache are not compiled again, so a warm build ends before the count reaches the
# total). Its exit status is go build's.

# Packages in the import graph of the given packages (what a cold build compiles).
go_package_count() {
  go list -mod=readonly -deps "$@" 2>/dev/null | wc -l | tr -d ' '
}

# A line of `go build -v` output that names a compiled package.
_GO_PACKAGE_LINE='^[A-Za-z0-9][A-Za-z0-9._~/+-]*$'

go_build_progress() {
  local label="$1" logf="$2" total="$3"
  shift 3
  local interval="${KUBEFLOW_PROGRESS_SECONDS:-30}" start=$SECONDS next compiled pid
  go build -v "$@" >"$logf" 2>&1 &
  pid=$!
  next=$((SECONDS + interval))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)); then
      compiled="$(grep -cE "$_GO_PACKAGE_LINE" "$logf" || true)"
      echo "$label: $(_go_elapsed $((SECONDS - start))), ${compiled:-0} of ${total:-?} packages compiled" >&2
      next=$((SECONDS + interval))
    fi
  done
  wait "$pid"
}

# The lines of a go build log that are not package names: the errors.
go_build_errors() { # log file
  grep -vE "$_GO_PACKAGE_LINE" "$1" | tail -n 30 || true
}

_go_elapsed() { # seconds
  if (($1 >= 60)); then echo "$(($1 / 60))m$(($1 % 60))s"; else echo "$1s"; fi
}
