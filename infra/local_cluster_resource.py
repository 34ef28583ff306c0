"""The local cluster as a Pulumi resource: start() on create, stop() on delete.

``LocalCluster(name, LocalClusterArgs(state_dir=..., bin_dir=...))`` is a dynamic
resource whose ``kubeconfig`` output is a secret (see docs/local-cluster.md).
The provider's methods import from infra.local_cluster at run time, so the class
pickles by reference and loads in the engine's provider host.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from infra.local_cluster_config import ExtraComponent, check_delay_factor, check_extra_components

_INPUTS = ("state_dir", "bin_dir", "api_port", "delay_factor", "extra_components")


def _resource_id(state_dir: str) -> str:
    digest = hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:12]
    return f"local-cluster-{digest}"


def _outs(props: Mapping[str, Any], kubeconfig: str, running: bool) -> dict[str, Any]:
    return {**{k: props.get(k) for k in _INPUTS}, "kubeconfig": kubeconfig, "running": running}


def _extras(props: Mapping[str, Any]) -> list[ExtraComponent]:
    return [ExtraComponent.from_props(e) for e in props.get("extra_components") or ()]


class LocalClusterProvider(pulumi.dynamic.ResourceProvider):
    """Creates, reads and deletes a local simulated cluster (see start() and stop())."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Start the cluster; the kubeconfig output is marked secret by LocalCluster."""
        from infra.local_cluster import start

        port = props.get("api_port")
        kubeconfig = start(
            Path(props["state_dir"]),
            Path(props["bin_dir"]),
            api_port=int(port) if port else None,
            delay_factor=float(props.get("delay_factor") or 1.0),
            extra_components=_extras(props),
        )
        return pulumi.dynamic.CreateResult(
            _resource_id(props["state_dir"]), _outs(props, kubeconfig, True)
        )

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Report whether the processes still run; drop the resource if its state is gone."""
        from infra.local_cluster import is_running

        state_dir = Path(props.get("state_dir") or "/nonexistent")
        if not props.get("state_dir") or not (state_dir / "cluster.yaml").exists():
            # No state: the cluster is gone, a later `up` creates it again.
            return pulumi.dynamic.ReadResult("", {})
        running = is_running(state_dir)
        return pulumi.dynamic.ReadResult(id_, _outs(props, props.get("kubeconfig", ""), running))

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Replace when an input changed or the processes died (checked live)."""
        from infra.local_cluster import is_running

        replaces = [k for k in _INPUTS if _olds.get(k) != _news.get(k)]
        if not replaces and not is_running(Path(_olds["state_dir"])):
            replaces = ["state_dir"]
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces), replaces=replaces, delete_before_replace=True
        )

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Stop the cluster and remove its state."""
        from infra.local_cluster import stop

        stop(Path(_props["state_dir"]))


@dataclass
class LocalClusterArgs:
    """Inputs of LocalCluster.

    ``extra_components``: processes started with the cluster and stopped on destroy
    (see infra.local_cluster_config.ExtraComponent and docs/local-cluster.md).
    """

    state_dir: pulumi.Input[str]
    bin_dir: pulumi.Input[str]
    api_port: pulumi.Input[int] | None = None
    delay_factor: float = 1.0
    extra_components: Sequence[ExtraComponent] = field(default_factory=tuple)


class LocalCluster(pulumi.dynamic.Resource, module="kubeflow", name="LocalCluster"):
    """A simulated Kubernetes cluster on this machine (run pulumi via scripts/netns.sh).

    ``kubeconfig`` is a secret output; feed it to a ``pulumi_kubernetes.Provider``.
    """

    kubeconfig: pulumi.Output[str]
    state_dir: pulumi.Output[str]
    bin_dir: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        args: LocalClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        check_delay_factor(args.delay_factor)
        check_extra_components(list(args.extra_components))
        defaults = pulumi.ResourceOptions(
            additional_secret_outputs=["kubeconfig"],
            # The same state_dir (and ports) may be reused: stop the old one first.
            delete_before_replace=True,
            custom_timeouts=pulumi.CustomTimeouts(create="10m", delete="5m"),
        )
        super().__init__(
            LocalClusterProvider(),
            resource_name,
            {
                "state_dir": args.state_dir,
                "bin_dir": args.bin_dir,
                "api_port": args.api_port,
                "delay_factor": args.delay_factor,
                "extra_components": [e.to_props() for e in args.extra_components],
                "kubeconfig": None,
                "running": None,
            },
            pulumi.ResourceOptions.merge(defaults, opts),
        )
