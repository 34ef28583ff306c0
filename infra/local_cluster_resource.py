"""The local cluster as a Pulumi resource: start() on create, stop() on delete.

``LocalCluster(name, LocalClusterArgs(state_dir=..., bin_dir=...))`` is a dynamic
resource whose ``kubeconfig`` output is a secret (see docs/local-cluster.md).
The provider's methods import from infra.local_cluster at run time, so the class
pickles by reference and loads in the engine's provider host. Its Kubernetes provider names
the cluster by ``cluster_identity`` (pulumi-kubernetes' ``clusterIdentifier``), so that a
restart after a reboot is an update of the cluster, not a new cluster and every object
replaced.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from infra.local_cluster_config import (
    ExtraComponent,
    Recorded,
    check_delay_factor,
    check_extra_components,
)

STOP_COMMAND = ".venv/bin/python -m infra.local_cluster_resource stop"
"""Stops a cluster that a `destroy` left running (the stack kept data in it): the command,
then the state dir (`infra.kept_objects` prints it)."""

SETTINGS = {
    "state_dir": "kubeflow:localClusterDir",
    "bin_dir": "the control plane's binaries (KUBEFLOW_KUBE_BIN_DIR)",
    "api_port": "the API server's port",
    "delay_factor": "kubeflow:localCluster.delayFactor",
    "extra_components": "the processes started with the cluster",
}
"""What sets each input of the cluster, by input: the `local` stack's settings."""
_INPUTS = tuple(SETTINGS)


def _resource_id(state_dir: str) -> str:
    digest = hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:12]
    return f"local-cluster-{digest}"


def _outs(props: Mapping[str, Any], kubeconfig: str, running: bool) -> dict[str, Any]:
    return {**{k: props.get(k) for k in _INPUTS}, "kubeconfig": kubeconfig, "running": running}


def _extras(props: Mapping[str, Any]) -> list[ExtraComponent]:
    return [ExtraComponent.from_props(e) for e in props.get("extra_components") or ()]


class ReplacedClusterError(ValueError):
    """An input of a running stack's cluster changed: that would make a new, empty cluster."""

    def __init__(self, changed: Sequence[str]) -> None:
        names = ", ".join(SETTINGS.get(key, key) for key in changed)
        super().__init__(
            f"the local cluster's settings changed ({names}): that makes a new, empty cluster, "
            "every object of the stack would be replaced and the old ones could not be deleted; "
            "fix: set them back, or destroy the stack (`make destroy`; a stack that keeps data "
            "leaves the cluster running: stop it with the command it prints, once its data is "
            "not wanted) and bring it up again with the new settings (`make up`)"
        )


class LostClusterError(ValueError):
    """The cluster's state is gone while the stack records objects in it."""

    def __init__(self, state_dir: str) -> None:
        super().__init__(
            f"the local cluster's state in {state_dir} is gone (removed by `make clean` or by "
            "hand), and with it every object the stack records there: a new cluster would be "
            "empty while the stack took its objects for there; fix: destroy the stack (`make "
            "destroy`: the objects it cannot reach leave its state), then `make up`"
        )


class KeptClusterError(ValueError):
    """A cluster made with other settings is in the state dir of a cluster to create."""

    def __init__(self, state_dir: str) -> None:
        super().__init__(
            f"a local cluster made with other settings is in {state_dir} (one a `destroy` left "
            "running because the stack kept data, or made by hand): starting this one would "
            f"remove it and its data; fix: stop it with `{STOP_COMMAND} {state_dir}` once its "
            "data is not wanted, or set the settings it was made with back (its cluster.yaml)"
        )


def _made_with(props: Mapping[str, Any]) -> Recorded | None:
    """The settings a cluster in the state dir of `props` was made with, if one was."""
    from infra.local_cluster import recorded_settings

    return recorded_settings(Path(props["state_dir"]))


def _asked(props: Mapping[str, Any]) -> Recorded:
    """The settings `props` ask start() for, as it records them."""
    port = props.get("api_port")
    return Recorded.asked(
        Path(props["bin_dir"]),
        int(port) if port else None,
        float(props.get("delay_factor") or 1.0),
        _extras(props),
    )


def cluster_identity(args: LocalClusterArgs) -> pulumi.Output[str]:
    """What names the cluster to the Kubernetes provider (its `clusterIdentifier`): the
    cluster's ID, which only its state dir sets. A restart of what died keeps it (and the
    kubeconfig), so no object is replaced; an input whose change would make a new cluster is
    refused (`ReplacedClusterError`)."""
    return pulumi.Output.from_input(args.state_dir).apply(_resource_id)


def _start(props: Mapping[str, Any]) -> dict[str, Any]:
    """start() the cluster of `props` (idempotent: restarts what died); its outputs."""
    from infra.local_cluster import start

    asked = _asked(props)
    kubeconfig = start(
        Path(props["state_dir"]),
        Path(asked.bin_dir),
        api_port=asked.api_port,
        delay_factor=asked.delay_factor,
        extra_components=asked.extras,
    )
    return _outs(props, kubeconfig, True)


class LocalClusterProvider(pulumi.dynamic.ResourceProvider):
    """Creates, restarts, reads and deletes a local simulated cluster (see start() and
    stop())."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Start the cluster, or take back the one a `destroy` left (kept data) when it was
        made with these settings; refuse to remove one made with others
        (`KeptClusterError`). The kubeconfig output is marked secret by LocalCluster."""
        recorded = _made_with(props)
        if recorded is not None and recorded != _asked(props):
            raise KeptClusterError(str(props["state_dir"]))
        return pulumi.dynamic.CreateResult(_resource_id(props["state_dir"]), _start(props))

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Restart what died (after a reboot, say): the same cluster, with every object and
        the same kubeconfig."""
        return pulumi.dynamic.UpdateResult(_start(_news))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Report whether the processes still run (not when its state is gone: the next
        `up` says so, `LostClusterError`)."""
        from infra.local_cluster import is_running

        running = bool(props.get("state_dir")) and is_running(Path(props["state_dir"]))
        return pulumi.dynamic.ReadResult(id_, _outs(props, props.get("kubeconfig", ""), running))

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Update (restart) when a process died, checked live; refuse a changed input, which
        would make a new, empty cluster (`ReplacedClusterError`), and a cluster whose state
        is gone (`LostClusterError`)."""
        from infra.local_cluster import is_running

        changed = [k for k in _INPUTS if _olds.get(k) != _news.get(k)]
        if changed:
            raise ReplacedClusterError(changed)
        if is_running(Path(_olds["state_dir"])):
            return pulumi.dynamic.DiffResult(changes=False)
        if _made_with(_olds) is None:
            raise LostClusterError(str(_olds["state_dir"]))
        return pulumi.dynamic.DiffResult(changes=True)

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
            custom_timeouts=pulumi.CustomTimeouts(create="10m", update="10m", delete="5m"),
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


def main(argv: Sequence[str]) -> int:
    """`stop STATE_DIR`: stop the cluster in STATE_DIR and remove its state, with what it
    holds."""
    if len(argv) != 2 or argv[0] != "stop":
        print(f"usage: {STOP_COMMAND} STATE_DIR", file=sys.stderr)
        return 2
    from infra.local_cluster import stop

    stop(Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
