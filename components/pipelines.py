"""Kubeflow Pipelines (KFP) standalone, installed the way upstream documents it.

Upstream: `kubectl apply -k manifests/kustomize/cluster-scoped-resources?ref=<v>`,
wait for the CRDs, then `kubectl apply -k manifests/kustomize/env/platform-agnostic?ref=<v>`.
(`env/dev` retags images to `master`, so it is not a pinned install.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.base import ComponentArgs, KubeflowComponent
from components.manifests import ManifestPart, github_kustomize

KFP_REPO = "kubeflow/pipelines"


def kfp_parts(ref: str) -> tuple[ManifestPart, ...]:
    """The two kustomizations of a standalone KFP install, pinned to `ref`."""
    return (
        ManifestPart(
            "cluster-scoped",
            github_kustomize(KFP_REPO, "manifests/kustomize/cluster-scoped-resources", ref),
            "kustomize",
            "cluster-scoped.yaml",
        ),
        ManifestPart(
            "platform-agnostic",
            github_kustomize(KFP_REPO, "manifests/kustomize/env/platform-agnostic", ref),
            "kustomize",
            "platform-agnostic.yaml",
        ),
    )


KFP_VERSIONS = {version: kfp_parts(version) for version in ("2.15.0", "2.16.1", "2.17.0")}


@dataclass
class PipelinesArgs(ComponentArgs):
    """Settings of a KFP install; the defaults install upstream 2.15.0 in `kubeflow`."""


class KubeflowPipelines(KubeflowComponent):
    """Kubeflow Pipelines: API server, UI, Argo Workflows, MySQL and SeaweedFS."""

    COMPONENT = "kfp"
    TYPE = "kubeflow:components:KubeflowPipelines"
    DEFAULT_VERSION = "2.15.0"
    UPSTREAM_NAMESPACE = "kubeflow"
    VERSIONS = KFP_VERSIONS

    api_endpoint: pulumi.Output[str]
    """In-cluster address of the KFP API (`ml-pipeline.<ns>.svc:8888`)."""
    ui_service: pulumi.Output[str]
    """In-cluster address of the KFP UI (`ml-pipeline-ui.<ns>.svc:80`)."""

    def __init__(
        self,
        name: str,
        args: PipelinesArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or PipelinesArgs(), opts)

    def component_outputs(self) -> dict[str, Any]:
        """Adds the API endpoint and UI service to the common outputs."""
        self.api_endpoint = pulumi.Output.from_input(
            f"ml-pipeline.{self.resolved_namespace}.svc:8888"
        )
        self.ui_service = pulumi.Output.from_input(
            f"ml-pipeline-ui.{self.resolved_namespace}.svc:80"
        )
        return {
            **super().component_outputs(),
            "api_endpoint": self.api_endpoint,
            "ui_service": self.ui_service,
        }
