"""A simulated Kubernetes cluster on this machine, for the `local` stack and e2e tests.

Real control plane, fake data plane, started by kwok's own cluster tool:
``kwokctl create cluster --runtime binary`` runs etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok (which plays the kubelets: Nodes
turn Ready, Pods Running/Ready after a realistic delay, without any container) from
the binaries of ``scripts/kube-tools.sh``. This module adds what kwokctl does not
do for us: the loopback-only netns rule, kwok's stages with delays, pre-made
PersistentVolumes, waiting for a usable cluster, extra processes beside the
control plane, and the Pulumi resource. See docs/local-cluster.md.

Everything that starts or talks to the cluster runs inside the loopback-only network
namespace of ``scripts/netns.sh``: the apiserver dials Service and Pod addresses (10.x)
for webhooks and aggregated APIs, and in there nothing off this machine can be reached.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from infra.local_cluster_config import (
    CONTROL_PLANE,
    STAGES_DIR_NAME,
    ExtraComponent,
    LocalClusterConfigError,
    Recorded,
    check_extra_components,
    component_dir,
    extra_wrapper,
    kwokctl_documents,
    volume_manifest,
)
from infra.local_cluster_kwokctl import (
    Kwokctl,
    KwokctlError,
    ProcessRecord,
    ports_taken,
    process_alive,
)
from infra.local_conversion import without_conversion_webhook

__all__ = [
    "CONTROL_PLANE",
    "ExtraComponent",
    "LocalClusterConfigError",
    "LocalClusterError",
    "NotInLoopbackNetnsError",
    "ProcessRecord",
    "check_loopback_only",
    "ignore_webhook_failures",
    "is_running",
    "network_links",
    "process_alive",
    "read_records",
    "start",
    "stop",
]

#: Binaries start() needs in bin_dir.
REQUIRED_BINARIES: tuple[str, ...] = (
    "kwokctl",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "kubectl",
)
#: Fake nodes (`kwokctl scale node`: node-000000, node-000001).
NODES = 2
#: Pre-made PersistentVolumes (infra/data/local-volume.yaml).
LOCAL_VOLUMES = 8
NETNS_SCRIPT = "scripts/netns.sh"
KUBE_TOOLS_SCRIPT = "scripts/kube-tools.sh"
#: Marks a directory as a local-cluster state dir, so stop() never deletes anything else.
STATE_MARKER = ".kubeflow-local-cluster"
#: Timeout written into webhooks by ignore_webhook_failures().
WEBHOOK_TIMEOUT_SECONDS = 2


class LocalClusterError(RuntimeError):
    """The local cluster could not be started, reached or stopped."""


class NotInLoopbackNetnsError(LocalClusterError):
    """The process is not inside a network namespace that has only loopback."""


# --- network namespace check ------------------------------------------------------


def network_links(proc_net_dev: Path = Path("/proc/self/net/dev")) -> list[str]:
    """Names of the network links of this process's network namespace."""
    # /proc/self/net follows the netns of the process (unlike /sys/class/net, which
    # follows the one sysfs was mounted in).
    lines = proc_net_dev.read_text().splitlines()[2:]
    return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


def check_loopback_only(links: Sequence[str] | None = None) -> None:
    """Raise NotInLoopbackNetnsError unless the only network link is `lo`."""
    found = sorted(network_links() if links is None else links)
    if found != ["lo"]:
        raise NotInLoopbackNetnsError(
            "refusing to run the local cluster outside a loopback-only network namespace "
            f"(network links here: {', '.join(found) or 'none'}). The kube-apiserver dials "
            "Service and Pod addresses (10.x) for webhooks, which must never leave this "
            f"machine. Fix: run the command through {NETNS_SCRIPT}, e.g. "
            f"`{NETNS_SCRIPT} .venv/bin/pytest -m e2e tests/e2e`."
        )


# --- webhooks (a limit of the simulation) ------------------------------------------

_WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})


def ignore_webhook_failures(obj: dict[str, Any]) -> dict[str, Any]:
    """Make an admission webhook configuration fail open, for the simulated cluster.

    Simulated pods serve nothing, so no webhook can answer. For Mutating- and
    ValidatingWebhookConfiguration objects every webhook gets ``failurePolicy: Ignore``
    and a short ``timeoutSeconds``. A CRD with a conversion webhook converts with strategy
    ``None`` instead (infra/local_conversion.py). Any other object is returned unchanged. The
    input is not modified.
    """
    if obj.get("kind") == "CustomResourceDefinition":
        return without_conversion_webhook(obj)
    if obj.get("kind") not in _WEBHOOK_KINDS or not str(obj.get("apiVersion", "")).startswith(
        "admissionregistration.k8s.io/"
    ):
        return obj
    out = dict(obj)
    webhooks = obj.get("webhooks")
    if isinstance(webhooks, list):
        out["webhooks"] = [
            {**hook, "failurePolicy": "Ignore", "timeoutSeconds": WEBHOOK_TIMEOUT_SECONDS}
            if isinstance(hook, dict)
            else hook
            for hook in webhooks
        ]
    return out


# --- start / stop -------------------------------------------------------------------


def check_binaries(bin_dir: Path) -> None:
    """Raise LocalClusterError naming the fix if a binary or kwok's stages are missing."""
    missing = [b for b in REQUIRED_BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if not (bin_dir.parent / STAGES_DIR_NAME).is_dir():
        missing.append(f"../{STAGES_DIR_NAME}")
    if missing:
        raise LocalClusterError(
            f"missing in {bin_dir}: {', '.join(missing)}. Fix: run {KUBE_TOOLS_SCRIPT} "
            "(it prints the bin dir on its last line) and pass that directory."
        )


def recorded_settings(state_dir: Path) -> Recorded | None:
    """The settings the cluster in state_dir was made with (its cluster.yaml), if one was."""
    try:
        return Recorded.from_yaml((state_dir / "cluster.yaml").read_text())
    except (FileNotFoundError, KeyError, TypeError, ValueError):
        return None


def _claim(state_dir: Path) -> None:
    """Make state_dir ours (the marker), refusing a directory that holds anything else."""
    if state_dir.exists() and not (state_dir / STATE_MARKER).exists() and any(state_dir.iterdir()):
        raise LocalClusterError(
            f"{state_dir} is not a local-cluster state dir (no {STATE_MARKER}) and not "
            "empty; fix: choose another kubeflow:localClusterDir"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STATE_MARKER).write_text("state of a local simulated cluster\n")


def _prepare(kw: Kwokctl, recorded: Recorded) -> Path:
    """Write what `kwokctl create cluster` reads; return its --config file."""
    state = kw.state_dir
    (state / "cluster.yaml").write_text(recorded.to_yaml())
    wrappers: dict[str, Path] = {}
    for extra in recorded.extras:
        wrapper = state / "extra-bin" / extra.name
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(extra_wrapper(extra))
        wrapper.chmod(0o755)
        wrappers[extra.name] = wrapper
        component_dir(kw.workdir, extra).mkdir(parents=True, exist_ok=True)
    docs = kwokctl_documents(
        Path(recorded.bin_dir),
        kw.workdir,
        api_port=recorded.api_port,
        delay_factor=recorded.delay_factor,
        extras=recorded.extras,
        wrappers=wrappers,
    )
    config = state / "kwokctl.yaml"
    config.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    volumes = [volume_manifest(i, state) for i in range(LOCAL_VOLUMES)]
    (state / "volumes.yaml").write_text(yaml.safe_dump_all(volumes, sort_keys=False))
    return config


def _dead(kw: Kwokctl, expected: Sequence[str]) -> list[str]:
    alive = {name for name, rec in kw.records().items() if process_alive(rec)}
    return [name for name in expected if name not in alive]


def _failure(kw: Kwokctl, what: str, expected: Sequence[str], err: Exception) -> LocalClusterError:
    dead = _dead(kw, expected)
    tails = "".join(
        f"\n--- {name} (log {kw.workdir / 'logs' / (name + '.log')}) ---\n{kw.log_tail(name)}"
        for name in dead
    )
    stopped = f"; not running: {', '.join(dead)}" if dead else ""
    return LocalClusterError(f"{what} failed{stopped}: {err}{tails}")


def _wait_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


def _converge(kw: Kwokctl, recorded: Recorded, deadline: float) -> None:
    """Restart what died, make the nodes and volumes, wait until the cluster is usable."""
    expected = [*CONTROL_PLANE, *(e.name for e in recorded.extras)]

    def left() -> str:
        return f"--timeout={max(1, int(deadline - time.monotonic()))}s"

    step = "waiting for /readyz"
    try:
        while kw.kubectl("get", "--raw=/readyz", "--request-timeout=5s", check=False) != "ok":
            if time.monotonic() > deadline:
                raise LocalClusterError("kube-apiserver /readyz is not ok")
            time.sleep(0.5)
        if _dead(kw, expected):
            # e.g. the controller-manager gives up on an apiserver that was still starting
            step = "kwokctl start cluster"
            kw.forget_dead()
            kw.run("start", "cluster")
        step = f"kwokctl scale node --replicas={NODES}"
        kw.run("scale", "node", f"--replicas={NODES}")
        step = "waiting for the nodes to be Ready"
        kw.kubectl("wait", "--for=condition=Ready", "node", "--all", left())
        step = "creating the PersistentVolumes"
        kw.kubectl(
            "apply",
            "--server-side",
            "--field-manager=kubeflow-local-cluster",
            f"--filename={kw.state_dir / 'volumes.yaml'}",
        )
        step = "waiting for the default ServiceAccount"
        kw.kubectl("wait", "--for=create", "serviceaccount/default", "--namespace=default", left())
    except (KwokctlError, LocalClusterError) as err:
        raise _failure(kw, step, expected, err) from err
    for extra in recorded.extras:
        if extra.ready_port and not _wait_port(extra.ready_port, deadline):
            silent = TimeoutError(f"nothing listens on 127.0.0.1:{extra.ready_port}")
            raise _failure(kw, f"waiting for {extra.name}", expected, silent)


def start(
    state_dir: Path,
    bin_dir: Path,
    *,
    api_port: int | None = None,
    delay_factor: float = 1.0,
    extra_components: Sequence[ExtraComponent] = (),
    timeout: float = 180.0,
) -> str:
    """Start the cluster in state_dir and return an admin kubeconfig (YAML, embedded certs).

    The kubeconfig is also written to <state_dir>/kubeconfig (mode 600).

    Idempotent: on a cluster that runs in state_dir with the same settings, it restarts
    what died (`kwokctl start cluster`), brings it to the same ready state and returns
    its kubeconfig; a cluster made with other settings is stopped first. Must run inside
    the loopback-only netns. Returns once the nodes are Ready, the volumes exist, the
    `default` ServiceAccount exists and every extra component's ready_port answers.
    """
    check_loopback_only()
    state_dir = Path(state_dir).resolve()
    recorded = Recorded.asked(bin_dir, api_port, delay_factor, extra_components)
    bin_dir = Path(recorded.bin_dir)
    check_extra_components(recorded.extras)
    check_binaries(bin_dir)
    _claim(state_dir)
    kw = Kwokctl(state_dir, bin_dir)
    half_made = kw.workdir.exists() and not kw.exists()  # e.g. kwokctl killed while creating
    if half_made or (kw.exists() and recorded_settings(state_dir) != recorded):
        stop(state_dir)
        _claim(state_dir)
    try:
        with ports_taken():
            deadline = time.monotonic() + timeout  # not counting the wait for another start
            if kw.exists():
                kw.forget_dead()
                kw.run("start", "cluster", timeout=timeout)
            else:
                config = _prepare(kw, recorded)
                kw.run(
                    "create",
                    "cluster",
                    f"--config={config}",
                    f"--kubeconfig={kw.home / 'kubeconfig'}",
                    f"--timeout={int(timeout)}s",
                    timeout=timeout,
                )
            _converge(kw, recorded, deadline)
        kubeconfig = kw.run("get", "kubeconfig")
    except KwokctlError as err:
        raise LocalClusterError(str(err)) from err
    # Self-contained (certificates embedded), for people and tools: kubectl --kubeconfig.
    # Written whole or not at all: a reader never sees half of it.
    path, partial = state_dir / "kubeconfig", state_dir / "kubeconfig.partial"
    partial.touch(mode=0o600)
    partial.write_text(kubeconfig)
    partial.replace(path)
    return kubeconfig


def stop(state_dir: Path) -> None:
    """Stop the cluster in state_dir, wait until its processes are gone, remove the state.

    `kwokctl delete cluster` stops every component (extra ones too) and removes its
    folder. A missing state_dir is not an error. A directory without the local-cluster
    marker is left alone (LocalClusterError), so a wrong path never gets deleted.
    """
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return
    if not (state_dir / STATE_MARKER).exists():
        if any(state_dir.iterdir()):
            raise LocalClusterError(
                f"{state_dir} is not a local-cluster state dir (no {STATE_MARKER}); not deleting it"
            )
        state_dir.rmdir()
        return
    recorded = recorded_settings(state_dir)
    records = read_records(state_dir)
    if recorded is not None and Kwokctl(state_dir, Path(recorded.bin_dir)).exists():
        kw = Kwokctl(state_dir, Path(recorded.bin_dir))
        # kwokctl gone or failing: the processes are killed below
        with contextlib.suppress(KwokctlError, OSError):
            kw.run("delete", "cluster", f"--kubeconfig={kw.home / 'kubeconfig'}", timeout=120)
    for rec in records.values():
        if process_alive(rec):
            # kwokctl starts each component in a session of its own
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(rec.pid, signal.SIGKILL)
    end = time.monotonic() + 15
    alive = [name for name, rec in records.items() if process_alive(rec)]
    while alive and time.monotonic() < end:
        time.sleep(0.1)
        alive = [name for name, rec in records.items() if process_alive(rec)]
    if alive:
        raise LocalClusterError(f"could not stop {', '.join(alive)} of the cluster in {state_dir}")
    shutil.rmtree(state_dir)


def read_records(state_dir: Path) -> dict[str, ProcessRecord]:
    """The running processes of the cluster in state_dir, by component."""
    recorded = recorded_settings(Path(state_dir))
    if recorded is None:
        return {}
    return Kwokctl(Path(state_dir), Path(recorded.bin_dir)).records()


def is_running(state_dir: Path) -> bool:
    """True if every component of the cluster in state_dir (extra ones too) runs."""
    recorded = recorded_settings(Path(state_dir))
    if recorded is None:
        return False
    records = read_records(state_dir)
    expected = [*CONTROL_PLANE, *(e.name for e in recorded.extras)]
    return all(name in records and process_alive(records[name]) for name in expected)


def node_ready(node: Mapping[str, Any]) -> bool:
    """True if a Node object has condition Ready=True."""
    conditions = node.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
