"""The local stack after its cluster's processes die, as on a reboot of the machine: `up`
restarts the same cluster, every object and a user's own still on it; a change of the
cluster's settings is refused before anything is touched, and so is a cluster whose state is
gone; and `destroy` of a dead cluster leaves nothing behind. One KFP stack, in this order."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import local_cluster
from tests.e2e.cluster_checks import assert_ready, stop_everything
from tests.engine import Stack, local_mirror_stack, step_timer

pytestmark = pytest.mark.e2e

TIMINGS: dict[str, float] = {}
"""This module's steps' wall times (build/e2e-reboot-timings.json)."""
Timed = step_timer(TIMINGS)
USERS = {"metadata": {"name": "users-notes"}, "data": {"kept": "yes"}}
"""A user's own object on the cluster, which no restart may lose."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = local_mirror_stack(
        tmp_path_factory.mktemp("reboot"),
        "local",
        {"components": ["pipelines"], "localCluster": {"delayFactor": 0}},
    )
    try:
        with Timed("up"):
            stack.up()
        yield stack
    finally:
        stop_everything(stack, "reboot", TIMINGS)


def cluster_dir(stack: Stack) -> Path:
    return stack.project.root / "cluster"


def reboot(stack: Stack) -> None:
    """Kill -9 every process of the cluster, as a reboot ends them, and wait until none runs."""
    records = local_cluster.read_records(cluster_dir(stack))
    assert records, "the cluster runs nothing to kill"
    for record in records.values():
        os.kill(record.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(local_cluster.process_alive(r) for r in records.values()):
        assert time.monotonic() < deadline, "the killed processes are still there"
        time.sleep(0.1)
    assert not local_cluster.is_running(cluster_dir(stack))


def planned(stack: Stack) -> Counter[str]:
    """How many steps of each kind a preview plans."""
    return Counter(step["op"] for step in stack.preview_steps()["steps"])


def test_up_after_a_reboot_restarts_the_same_cluster(stack: Stack) -> None:
    configmaps = stack.kube().resources.get(api_version="v1", kind="ConfigMap")
    configmaps.create(body=USERS, namespace="default")
    reboot(stack)
    # The preview cannot know the restarted cluster's kubeconfig: the objects show as
    # updates of their provider's settings, never as replaces (a new cluster would be).
    steps = planned(stack)
    assert steps["replace"] == 0 and steps["delete"] == 0 and steps["update"] > 80, steps
    with Timed("up after the reboot"):
        stack.up()
    assert local_cluster.is_running(cluster_dir(stack))
    assert_ready(stack, at_least=10)
    users = configmaps.get(name="users-notes", namespace="default")
    assert users.data.kept == "yes"
    stack.pulumi("preview", "--expect-no-changes")


def test_a_new_cluster_setting_is_refused_before_anything_is_touched(stack: Stack) -> None:
    before = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]["resources"]
    stack.set_config("localCluster", {"delayFactor": 2})
    try:
        for command in ("preview", "up"):
            result = stack.pulumi(command, *(["--yes"] if command == "up" else []), check=False)
            assert result.returncode != 0, command
            assert "(kubeflow:localCluster.delayFactor)" in result.output, result.output[-3000:]
            assert "fix: set them back, or destroy the stack (`make destroy`;" in result.output
    finally:
        stack.set_config("localCluster", {"delayFactor": 0})
    after = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]["resources"]
    assert after == before
    assert local_cluster.is_running(cluster_dir(stack))
    stack.pulumi("preview", "--expect-no-changes")


def test_a_cluster_whose_state_is_gone_is_refused_and_destroy_still_works(stack: Stack) -> None:
    """`make clean`, or an rm of the state dir, under a stack that is up: a new cluster would
    be empty while the stack took its objects for there."""
    local_cluster.stop(cluster_dir(stack))  # its processes and its state dir
    stack.pulumi("refresh", "--yes", "--skip-preview", check=False)  # keeps the cluster
    result = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    assert f"the local cluster's state in {cluster_dir(stack)} is gone" in result.output
    assert "fix: destroy the stack (`make destroy`" in result.output
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not json.loads(stack.pulumi("stack", "export").stdout)["deployment"].get("resources")


def test_destroy_after_a_reboot_leaves_nothing(stack: Stack) -> None:
    with Timed("up (a new cluster)"):
        stack.up()
    reboot(stack)
    with Timed("destroy after the reboot"):
        stack.pulumi("destroy", "--yes", "--skip-preview")
    state = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]
    assert not state.get("resources")
    assert not cluster_dir(stack).exists()  # its state, and the objects in it, with it
