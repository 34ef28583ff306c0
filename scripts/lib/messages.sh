# shellcheck shell=bash
# Progress and fatal errors of the build scripts, on stderr, prefixed with the script's
# label. Sourced by scripts/tools.sh, kube-tools.sh, kfp-tools.sh and render-tools.sh after
# they set MESSAGES_LABEL.
#
#   log <text>                       # "<label>: <text>"
#   die <problem> [<line>...]        # "<label>: error: <problem>", each line indented; exit 1

log() { echo "$MESSAGES_LABEL: $*" >&2; }
die() {
  echo "$MESSAGES_LABEL: error: $1" >&2
  shift
  for line in "$@"; do echo "  $line" >&2; done
  exit 1
}
