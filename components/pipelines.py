"""Kubeflow Pipelines (KFP) standalone, installed the way upstream documents it.

Upstream: `kubectl apply -k manifests/kustomize/cluster-scoped-resources?ref=<v>`,
wait for the CRDs, then `kubectl apply -k manifests/kustomize/env/platform-agnostic?ref=<v>`.
(`env/dev` retags images to `master`, so it is not a pinned install.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import KubeObject, ManifestPart, github_kustomize
from components.transforms import Transform
from pipelines.artifact_store import (
    S3ArtifactSettings,
    is_bundled_object_store,
    kfp_s3_transforms,
    validate_settings,
)

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

    artifact_store: S3ArtifactSettings | None = None
    """Keep artifacts and pipeline specs in this S3 bucket instead of the bundled SeaweedFS,
    which is then left out."""


class KubeflowPipelines(KubeflowComponent):
    """Kubeflow Pipelines: API server, UI, Argo Workflows, MySQL and SeaweedFS."""

    COMPONENT = "kfp"
    TYPE = "kubeflow:components:KubeflowPipelines"
    DEFAULT_VERSION = "2.15.0"
    UPSTREAM_NAMESPACE = "kubeflow"
    VERSIONS = KFP_VERSIONS

    args: PipelinesArgs

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

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """A valid artifact store."""
        store = args.artifact_store if isinstance(args, PipelinesArgs) else None
        if store is None:
            return []
        try:
            validate_settings(store)
        except ValueError as error:
            return [f"kfp: artifact store: {error}"]
        return []

    def extra_transforms(self) -> list[Transform]:
        """KFP's object store moved to S3, when asked."""
        store = self.args.artifact_store
        return kfp_s3_transforms(store) if store is not None else []

    def include(self, obj: KubeObject) -> bool:
        """Without the bundled SeaweedFS when artifacts go to S3."""
        return self.args.artifact_store is None or not is_bundled_object_store(obj)

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
