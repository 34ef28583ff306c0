#!/usr/bin/env bash
# The integration and e2e suites and the stack previews, in two lanes side by side (`make
# test-slow`, which `make test` runs): the full-platform module (tests/e2e/test_local_platform.py,
# about 45 minutes, one engine busy on about one core) in one; every other integration and
# e2e test, then `make preview-stacks` (about 40 minutes one after the other) in the other.
# On 2 cores this takes about the longer of the two instead of their sum.
#
# Each run has its own marker for leftover processes (tests/conftest.py) and its own
# clusters on free loopback ports. The platform run's output goes to build/test-platform.log
# and is printed when both have ended; the script fails if either run failed.
# Runs inside the loopback-only network namespace (the Makefile calls it through
# scripts/netns.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PLATFORM_MODULE=tests/e2e/test_local_platform.py
PYTEST="${PYTEST:-.venv/bin/pytest}"
log=build/test-platform.log
mkdir -p build

started=$SECONDS
# An asynchronous command ignores SIGINT unless told otherwise: the platform run takes it
# back, so that the trap below can interrupt it like Ctrl-C and its fixtures stop the
# cluster. In a session of its own, a Ctrl-C at the terminal reaches it only through that
# trap: once, so that a second interrupt does not cut its teardown short.
(trap - INT && exec setsid --wait "$PYTEST" -m e2e -q -p no:cacheprovider "$PLATFORM_MODULE") \
  >"$log" 2>&1 &
platform=$!
# Whatever ends this script early (a failure, Ctrl-C) interrupts the platform run and waits
# for its teardown; a Ctrl-C ends the script once the foreground run has stopped.
trap 'kill -INT "$platform" 2>/dev/null && wait "$platform"' EXIT
trap 'exit 130' INT

rest=0
"$PYTEST" -m "integration or e2e" -q --ignore="$PLATFORM_MODULE" || rest=$?
echo "== integration and e2e without the platform module: rc $rest, $((SECONDS - started)) s"
previews=0
make --no-print-directory preview-stacks || previews=$?
echo "== make preview-stacks: rc $previews, $((SECONDS - started)) s"

platform_rc=0
wait "$platform" || platform_rc=$?
trap - EXIT
echo "== the platform module ($PLATFORM_MODULE, log $log): rc $platform_rc," \
  "$((SECONDS - started)) s"
cat "$log"
((rest == 0 && previews == 0 && platform_rc == 0))
