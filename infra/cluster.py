"""The Kubernetes provider for the stack's cluster mode.

- `local`: a simulated control plane the stack starts itself (no Docker).
- `kind`: a kind cluster the stack creates and deletes (Docker).
- `existing`: a cluster you already have, by kubeconfig and context.
- `render`: no cluster; manifests are written to a folder (GitOps, CI).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.transforms import Transform
from infra.config import ClusterSettings, ConfigError
from infra.local_cluster_config import ExtraComponent


@dataclass
class Cluster:
    """The provider every component uses, and what the stack exports about it."""

    provider: k8s.Provider
    outputs: dict[str, Any] = field(default_factory=dict)
    transforms: list[Transform] = field(default_factory=list)
    """Transforms every component needs on this cluster."""


def kube_bin_dir() -> Path:
    """Where scripts/kube-tools.sh put kwokctl, etcd, kube-apiserver and friends."""
    value = os.environ.get("KUBEFLOW_KUBE_BIN_DIR", "")
    if not value or not Path(value).is_dir():
        raise ConfigError(
            "kubeflow:cluster = local needs the control-plane binaries; fix: run `make setup` "
            "and run pulumi through `make` (it sets KUBEFLOW_KUBE_BIN_DIR)"
        )
    return Path(value)


def build_cluster(
    settings: ClusterSettings,
    extra_components: Sequence[ExtraComponent] = (),
    keeps_data: bool = False,
) -> Cluster:
    """Create the provider (and the cluster itself for `local` and `kind`).

    extra_components: processes the `local` cluster starts beside its control plane
    and stops on destroy (e.g. a KFP API server); see docs/local-cluster.md. Other
    modes have nowhere to run them and refuse them.
    keeps_data: whether the stack keeps data (`Settings.cluster_keeps_data`): a kind or
    local cluster, which holds it, then stays when the stack is destroyed (a kind cluster
    also when it is renamed).
    """
    if extra_components and settings.mode != "local":
        raise ConfigError(
            f"extra components ({', '.join(e.name for e in extra_components)}) run only "
            f"beside the local cluster, not kubeflow:cluster = {settings.mode}; fix: use "
            "kubeflow:cluster = local, or run them yourself"
        )
    if settings.mode == "render":
        assert settings.render_dir is not None
        provider = k8s.Provider("render", render_yaml_to_directory=str(settings.render_dir))
        return Cluster(provider, {"mode": "render", "renderDir": str(settings.render_dir)})
    if settings.mode == "existing":
        provider = k8s.Provider(
            "existing",
            kubeconfig=str(settings.kubeconfig) if settings.kubeconfig else None,
            context=settings.context,
        )
        return Cluster(provider, {"mode": "existing", "context": settings.context or "(current)"})
    if settings.mode == "kind":
        from infra.kind_cluster import RESOURCE_NAME, KindCluster

        kind = KindCluster(
            RESOURCE_NAME, settings.kind_name, pulumi.ResourceOptions(retain_on_delete=keeps_data)
        )
        provider = k8s.Provider(
            "kind", kubeconfig=kind.kubeconfig, opts=pulumi.ResourceOptions(depends_on=[kind])
        )
        return Cluster(
            provider, {"mode": "kind", "name": settings.kind_name, "kubeconfig": kind.kubeconfig}
        )
    return _local(settings, extra_components, keeps_data)


def _local(
    settings: ClusterSettings, extra_components: Sequence[ExtraComponent], keeps_data: bool
) -> Cluster:
    from infra.local_cluster import ignore_webhook_failures
    from infra.local_cluster_resource import LocalCluster, LocalClusterArgs, cluster_identity

    assert settings.local_dir is not None
    args = LocalClusterArgs(
        state_dir=str(settings.local_dir),
        bin_dir=str(kube_bin_dir()),
        delay_factor=settings.local_delay_factor,
        extra_components=tuple(extra_components),
    )
    local = LocalCluster("local", args, pulumi.ResourceOptions(retain_on_delete=keeps_data))
    provider = k8s.Provider(
        "local",
        kubeconfig=local.kubeconfig,
        # The same cluster whatever its kubeconfig: while the cluster restarts after a reboot,
        # its kubeconfig is unknown to a preview, which would otherwise replace the provider
        # and every object with it.
        cluster_identifier=cluster_identity(args),
        # A destroy after a reboot: the cluster's objects go with its state (stop()), so
        # those the provider cannot reach leave the stack without a delete.
        delete_unreachable=True,
        opts=pulumi.ResourceOptions(depends_on=[local]),
    )
    outputs = {"mode": "local", "kubeconfig": local.kubeconfig}
    return Cluster(provider, outputs, transforms=[ignore_webhook_failures])
