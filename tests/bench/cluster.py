"""The full platform on the local cluster, with Pulumi and with kubectl, in one run.

Pulumi: a `local` stack over the manifest mirror (its own simulated cluster): `up` from empty
(the cluster's start included), a no-op `preview`, `refresh`, `destroy` (the cluster's stop
included). Its `up` and `destroy` write event logs, from which the time per component is read.

kubectl, on a fresh cluster of the same kind: the objects that `up` applied, read back from the
stack's state (so transformed exactly as the stack transforms them: webhooks set to Ignore),
then the upstream loop (`kubectl apply --server-side --force-conflicts` until it succeeds,
sleeping between tries as upstream's README does), kubectl's waits for what Pulumi waits for
(CRDs Established, claims Bound, Deployments Available, StatefulSets and DaemonSets rolled
out; not Services' endpoints); then `kubectl delete` of the same objects (waiting until they
are gone) and the cluster's stop. Its file holds Secrets in plain text: it lives in the run's
temporary folder, mode 600, and is removed with it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from infra import local_cluster
from infra.preview_summary import component_of
from policy.rules.secrets import SECRET_SIGNATURE
from tests.engine import Stack, local_mirror_stack, step_timer

SECRET_SIG = SECRET_SIGNATURE[0]
"""The key that marks a secret value in a `pulumi stack export --show-secrets`."""
TIMEOUT = 2400
"""Seconds any one step may take (an idle 2-core machine needs about 10 minutes for `up`)."""


def reveal(value: Any) -> Any:
    """`value` with every exported secret replaced by its plaintext."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return reveal(json.loads(value["plaintext"]))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def merge(base: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Merge `patch` into `base` in place (dicts key by key; anything else replaced)."""
    for k, v in patch.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)


def identity(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """apiVersion, kind, namespace and name of an object."""
    metadata = obj.get("metadata") or {}
    return (obj["apiVersion"], obj["kind"], metadata.get("namespace") or "", metadata["name"])


def state_objects(export: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The objects a stack applied, in the order it created them, from its exported state
    (secrets shown). Each `...Patch` resource is merged into the object it patches (wherever
    the state lists it), as one `kubectl apply` of both would otherwise let the later document
    drop the earlier's fields."""
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    patches: list[dict[str, Any]] = []
    for resource in export["deployment"].get("resources") or []:
        inputs = resource.get("inputs") or {}
        if not resource["type"].startswith("kubernetes:") or "kind" not in inputs:
            continue
        obj = reveal(inputs)
        if resource["type"].endswith("Patch"):
            patches.append(obj)
        else:
            objects[identity(obj)] = obj
    for patch in patches:
        if identity(patch) in objects:
            merge(objects[identity(patch)], patch)
        else:
            objects[identity(patch)] = patch
    return list(objects.values())


def component_seconds(events: Iterable[str]) -> dict[str, dict[str, float]]:
    """Per component of an engine event log: its resources (not providers or components), the
    wall time from its first step's start to its last step's end, and the sum of its steps'
    durations (seconds; the engine stamps events to the second)."""
    started: dict[str, int] = {}
    spans: dict[str, list[int]] = defaultdict(list)
    summed: dict[str, int] = defaultdict(int)
    for line in events:
        event = json.loads(line) if line.strip() else {}
        for kind in ("resourcePreEvent", "resOutputsEvent"):
            metadata = (event.get(kind) or {}).get("metadata") or {}
            urn = metadata.get("urn", "")
            state = metadata.get("new") or metadata.get("old") or {}
            if not urn or metadata.get("type", "").startswith("pulumi:"):
                continue
            if not state.get("custom", True):
                continue  # a component: its children are counted
            if kind == "resourcePreEvent":
                started[urn] = event["timestamp"]
            elif urn in started:
                component = component_of(urn)
                spans[component] += [started[urn], event["timestamp"]]
                summed[component] += event["timestamp"] - started.pop(urn)
    return {
        component: {
            "resources": len(times) / 2,
            "span_seconds": max(times) - min(times),
            "step_seconds": summed[component],
        }
        for component, times in sorted(spans.items())
    }


def pulumi_lifecycle(root: Path, settings: Mapping[str, Any]) -> dict[str, Any]:
    """`up`, no-op `preview`, `refresh` and `destroy` of a local stack with `settings`; their
    wall times, the time per component of `up` and of `destroy`, and the objects `up`
    applied."""
    timings: dict[str, float] = {}
    timed = step_timer(timings)
    stack = local_mirror_stack(root, "bench", settings)
    events = {step: root / f"{step}.events.jsonl" for step in ("up", "destroy")}
    try:
        with timed("up"):
            stack.up("--event-log", str(events["up"]), timeout=TIMEOUT)
        with timed("preview"):
            stack.pulumi("preview", "--expect-no-changes", timeout=TIMEOUT)
        with timed("refresh"):
            stack.pulumi("refresh", "--yes", "--skip-preview", timeout=TIMEOUT)
        export = json.loads(stack.pulumi("stack", "export", "--show-secrets").stdout)
        objects = state_objects(export)
        with timed("destroy"):
            stack.pulumi(
                "destroy",
                "--yes",
                "--skip-preview",
                "--event-log",
                str(events["destroy"]),
                timeout=TIMEOUT,
            )
    finally:
        stop_cluster(stack)
    return {
        "seconds": timings,
        "components": {
            step: component_seconds(log.read_text().splitlines()) for step, log in events.items()
        },
        "objects": objects,
    }


def stop_cluster(stack: Stack) -> None:
    """Stop the stack's cluster if a failed step left it running."""
    cluster = stack.project.root / "cluster"
    if local_cluster.is_running(cluster):
        local_cluster.stop(cluster)


class Kubectl:
    """kubectl against one kubeconfig."""

    def __init__(self, binary: Path, kubeconfig: Path) -> None:
        self.command = [str(binary), f"--kubeconfig={kubeconfig}"]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.command, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        return done


def write_objects(path: Path, objects: Iterable[Mapping[str, Any]]) -> Path:
    """A multi-document YAML file of `objects`, readable by its owner only."""
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump_all(list(objects), sort_keys=False))
    return path


WAITS = {
    "wait CRDs Established": ("CustomResourceDefinition", "wait", "--for=condition=Established"),
    "wait claims Bound": ("PersistentVolumeClaim", "wait", "--for=jsonpath={.status.phase}=Bound"),
    "wait Deployments Available": ("Deployment", "wait", "--for=condition=Available"),
    "wait StatefulSets rolled out": ("StatefulSet", "rollout", "status"),
    "wait DaemonSets rolled out": ("DaemonSet", "rollout", "status"),
}
"""What Pulumi's `up` waits for, as kubectl waits for it (step: kind, command, condition)."""


def apply_until_it_succeeds(kubectl: Kubectl, applied: Path, retry_sleep: float) -> int:
    """Upstream's loop: `kubectl apply --server-side --force-conflicts` until it succeeds,
    sleeping `retry_sleep` between tries; the number of tries."""
    deadline = time.monotonic() + TIMEOUT
    args = ("apply", "--server-side", "--force-conflicts", f"--filename={applied}")
    tries = 1
    while kubectl.run(*args, check=time.monotonic() > deadline).returncode != 0:
        time.sleep(retry_sleep)
        tries += 1
    return tries


def kubectl_baseline(
    root: Path, objects: list[dict[str, Any]], bin_dir: Path, retry_sleep: float
) -> dict[str, Any]:
    """The same objects with kubectl on a fresh local cluster: the time of each phase, the
    number of `apply` tries and the seconds slept between them."""
    timings: dict[str, float] = {}
    timed = step_timer(timings)
    cluster = root / "cluster"
    applied = write_objects(root / "objects.yaml", objects)
    deleted = write_objects(root / "objects-reversed.yaml", reversed(objects))
    files = {
        step: write_objects(root / f"{kind}.yaml", [o for o in objects if o["kind"] == kind])
        for step, (kind, _, _) in WAITS.items()
        if any(o["kind"] == kind for o in objects)
    }
    tries = 0
    try:
        with timed("cluster start"):
            local_cluster.start(cluster, bin_dir)
        kubectl = Kubectl(bin_dir / "kubectl", cluster / "kubeconfig")
        with timed("apply"):
            tries = apply_until_it_succeeds(kubectl, applied, retry_sleep)
        for step, file in files.items():
            _, command, condition = WAITS[step]
            with timed(step):
                kubectl.run(command, condition, f"--filename={file}", f"--timeout={TIMEOUT}s")
        with timed("delete"):
            kubectl.run(
                "delete",
                "--wait=true",
                "--ignore-not-found",
                f"--filename={deleted}",
                f"--timeout={TIMEOUT}s",
            )
    finally:
        with timed("cluster stop"):
            if local_cluster.is_running(cluster):
                local_cluster.stop(cluster)
    return {"seconds": timings, "apply_tries": tries, "slept": (tries - 1) * retry_sleep}
