"""What kwokctl is told to start: its configuration, kwok's stages with delays, extra components.

Pure functions (no processes): infra.local_cluster_kwokctl runs kwokctl with the
documents built here. The data lives in infra/data/: kwokctl.yaml (options and
component patches), kwok-stage-delays.yaml (the simulated kubelet's timing).
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
KWOKCTL_CONFIG = DATA / "kwokctl.yaml"
STAGE_DELAYS = DATA / "kwok-stage-delays.yaml"
#: kwok's stage files, installed by scripts/kube-tools.sh next to the bin dir.
STAGES_DIR_NAME = "kwok-stages"
#: The binaries kwokctl is handed, by its option name.
BINARY_OPTIONS: dict[str, str] = {
    "etcdBinary": "etcd",
    "kubeApiserverBinary": "kube-apiserver",
    "kubeControllerManagerBinary": "kube-controller-manager",
    "kubeSchedulerBinary": "kube-scheduler",
    "kwokControllerBinary": "kwok",
    "kubectlBinary": "kubectl",
}
#: Components kwokctl starts, by the name of their pid file (kwokctl's component names).
CONTROL_PLANE: tuple[str, ...] = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
)
MAX_DELAY_FACTOR = 100.0
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class LocalClusterConfigError(ValueError):
    """Settings of the local cluster that cannot work; the message names the fix."""


@dataclass(frozen=True)
class ExtraComponent:
    """A process the local cluster runs beside its control plane (via kwokctl).

    kwokctl starts it after the components in ``links`` (default: after
    kube-apiserver) on every start, and stops it with the cluster. It gets the
    environment of the start plus ``env`` and:

    - ``KUBECONFIG``: the cluster's admin kubeconfig (certificate files);
    - ``KUBEFLOW_COMPONENT_DIR``: a folder of its own inside the state dir, for its
      data (removed with the cluster).

    Its output goes to ``<state_dir>/kwok/clusters/<cluster>/logs/<name>.log``. If
    ``ready_port`` is set, start() waits until something accepts TCP connections on
    127.0.0.1:<ready_port>.
    """

    name: str
    binary: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    links: tuple[str, ...] = ("kube-apiserver",)
    ready_port: int | None = None

    def __post_init__(self) -> None:
        # One order, so a spec compares equal to itself read back from state.
        object.__setattr__(self, "env", tuple(sorted(self.env)))

    def problems(self) -> list[str]:
        """What is wrong with this spec (empty if nothing)."""
        out = []
        if not _NAME.match(self.name) or self.name in CONTROL_PLANE:
            out.append(
                f"extra component name {self.name!r} must be a DNS label (a-z, 0-9, '-') "
                f"other than {', '.join(CONTROL_PLANE)}; fix: rename it"
            )
        if not Path(self.binary).is_absolute():
            out.append(
                f"extra component {self.name!r}: binary {self.binary!r} must be an absolute "
                "path; fix: resolve it (shutil.which)"
            )
        if self.ready_port is not None and not 0 < self.ready_port < 65536:
            out.append(f"extra component {self.name!r}: ready_port {self.ready_port} is no port")
        return out

    def to_props(self) -> dict[str, Any]:
        """Plain data, for Pulumi's state."""
        return {
            "name": self.name,
            "binary": self.binary,
            "args": list(self.args),
            "env": {k: v for k, v in self.env},
            "links": list(self.links),
            "ready_port": self.ready_port,
        }

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ExtraComponent:
        """Inverse of to_props()."""
        return cls(
            name=str(props["name"]),
            binary=str(props["binary"]),
            args=tuple(str(a) for a in props.get("args") or ()),
            env=tuple(sorted((str(k), str(v)) for k, v in (props.get("env") or {}).items())),
            links=tuple(str(link) for link in props.get("links") or ()),
            ready_port=int(props["ready_port"]) if props.get("ready_port") else None,
        )


def check_extra_components(extras: Sequence[ExtraComponent]) -> None:
    """Raise LocalClusterConfigError listing every problem of the extra components."""
    problems = [p for extra in extras for p in extra.problems()]
    names = [extra.name for extra in extras]
    if len(set(names)) != len(names):
        problems.append(f"extra components share a name: {names}; fix: one name each")
    known = {*CONTROL_PLANE, *names}
    problems += [
        f"extra component {extra.name!r} links to {link!r}, which is not a component; "
        f"fix: use one of {', '.join(sorted(known - {extra.name}))}"
        for extra in extras
        for link in extra.links
        if link not in known or link == extra.name
    ]
    if problems:
        raise LocalClusterConfigError("; ".join(problems))


def check_delay_factor(factor: object) -> float:
    """The delay factor as a float; LocalClusterConfigError naming the setting if it is bad."""
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not math.isfinite(factor)
        or not 0 <= factor <= MAX_DELAY_FACTOR
    ):
        raise LocalClusterConfigError(
            f"kubeflow:localCluster.delayFactor = {factor!r} must be a number from 0 to "
            f"{MAX_DELAY_FACTOR:g} (1: realistic delays, 5: five times slower, 0: none); "
            "fix: pulumi config set --path kubeflow:localCluster.delayFactor 1"
        )
    return float(factor)


def stages(stages_dir: Path, factor: float) -> list[dict[str, Any]]:
    """kwok's own stages from stages_dir, with the delays of kwok-stage-delays.yaml x factor."""
    delays: dict[str, dict[str, int]] = yaml.safe_load(STAGE_DELAYS.read_text())
    docs = [
        doc
        for path in sorted(stages_dir.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    found = {doc["metadata"]["name"] for doc in docs}
    missing = sorted(set(delays) - found)
    if missing:
        raise LocalClusterConfigError(
            f"{stages_dir} lacks kwok's stages {', '.join(missing)}; fix: run "
            "scripts/kube-tools.sh (it installs them from the pinned kwok release)"
        )
    for doc in docs:
        delay = delays.get(doc["metadata"]["name"])
        if delay is not None:
            doc["spec"]["delay"] = {key: round(ms * factor) for key, ms in delay.items()}
    return docs


def kwokctl_documents(
    bin_dir: Path,
    workdir: Path,
    *,
    api_port: int | None,
    delay_factor: float,
    extras: Sequence[ExtraComponent] = (),
    wrappers: Mapping[str, Path] | None = None,
) -> list[dict[str, Any]]:
    """The --config documents of `kwokctl create cluster`: its configuration, then the stages.

    workdir is kwokctl's cluster folder (where its pid files and logs go); wrappers
    maps an extra component to the executable kwokctl starts for it (see
    extra_wrapper()).
    """
    conf: dict[str, Any] = yaml.safe_load(KWOKCTL_CONFIG.read_text())
    options = conf["options"]
    for option, binary in BINARY_OPTIONS.items():
        options[option] = str(bin_dir / binary)
    if api_port:
        options["kubeApiserverPort"] = api_port
    wrappers = wrappers or {}
    conf["components"] = [
        {
            "name": extra.name,
            "binary": str(wrappers.get(extra.name, extra.binary)),
            "args": list(extra.args),
            "links": list(extra.links),
            "workDir": str(workdir),
            "envs": [
                {"name": "KUBECONFIG", "value": str(workdir / "kubeconfig.yaml")},
                {"name": "KUBEFLOW_COMPONENT_DIR", "value": str(component_dir(workdir, extra))},
                *({"name": k, "value": v} for k, v in extra.env),
            ],
        }
        for extra in extras
    ]
    return [conf, *stages(bin_dir.parent / STAGES_DIR_NAME, delay_factor)]


def component_dir(workdir: Path, extra: ExtraComponent) -> Path:
    """The data folder of an extra component (inside kwokctl's cluster folder)."""
    return workdir / "components" / extra.name


def extra_wrapper(extra: ExtraComponent) -> str:
    """A shell script that execs the component's binary.

    kwokctl names a component's pid and log files after its binary's file name, so
    every extra component gets an executable of its own name; exec keeps the pid.
    """
    return f'#!/bin/sh\nexec {shlex.quote(extra.binary)} "$@"\n'


def volume_manifest(index: int, state_dir: Path) -> dict[str, Any]:
    """The index-th pre-made PersistentVolume (infra/data/local-volume.yaml)."""
    volume: dict[str, Any] = yaml.safe_load((DATA / "local-volume.yaml").read_text())
    volume["metadata"]["name"] = f"local-pv-{index}"
    volume["spec"]["hostPath"]["path"] = str(state_dir / "volumes" / f"pv-{index}")
    return volume


@dataclass(frozen=True)
class Recorded:
    """What start() was asked for, kept in the state dir for stop() and the provider."""

    bin_dir: str
    api_port: int | None = None
    delay_factor: float = 1.0
    extras: tuple[ExtraComponent, ...] = field(default=())

    @classmethod
    def asked(
        cls,
        bin_dir: Path,
        api_port: int | None,
        delay_factor: float,
        extras: Sequence[ExtraComponent],
    ) -> Recorded:
        """What start() records when asked for these settings (the bin dir resolved)."""
        return cls(
            bin_dir=str(Path(bin_dir).resolve()),
            api_port=api_port,
            delay_factor=check_delay_factor(delay_factor),
            extras=tuple(extras),
        )

    def to_yaml(self) -> str:
        """Text of <state_dir>/cluster.yaml."""
        return yaml.safe_dump(
            {
                "bin_dir": self.bin_dir,
                "api_port": self.api_port,
                "delay_factor": self.delay_factor,
                "extras": [e.to_props() for e in self.extras],
            },
            sort_keys=False,
        )

    @classmethod
    def from_yaml(cls, text: str) -> Recorded:
        """Inverse of to_yaml()."""
        data = yaml.safe_load(text)
        return cls(
            bin_dir=str(data["bin_dir"]),
            api_port=data.get("api_port"),
            delay_factor=float(data.get("delay_factor", 1.0)),
            extras=tuple(ExtraComponent.from_props(e) for e in data.get("extras") or ()),
        )


def local_cluster_setting(value: Mapping[str, Any]) -> tuple[float, list[str]]:
    """The stack setting kubeflow:localCluster: (delay factor, problems)."""
    problems = [
        f"kubeflow:localCluster.{key} is not a setting; fix: remove it (settings: delayFactor)"
        for key in sorted(set(value) - {"delayFactor"})
    ]
    try:
        return check_delay_factor(value.get("delayFactor", 1.0)), problems
    except LocalClusterConfigError as err:
        return 1.0, [*problems, str(err)]
