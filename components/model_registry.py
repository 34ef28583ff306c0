"""Kubeflow Model Registry: a REST server over a MySQL or PostgreSQL database.

Upstream: `kubectl apply -k manifests/kustomize/overlays/db?ref=<v> -n kubeflow` (MySQL) or
`overlays/postgres` (PostgreSQL). The overlays set no namespace, so every object is put into
the component's namespace here, which the component creates unless told not to
(`create_namespace`: in a stack, unless a component installed before it, such as Kubeflow
Pipelines, runs in `kubeflow`).

The database credentials are upstream's demo Secret `model-registry-db-secrets`; replace
it (a transform) or front a managed database before holding real metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import ManifestPart, ManifestSource, github_kustomize

MODEL_REGISTRY_REPO = "kubeflow/model-registry"
OVERLAYS = {"mysql": "db", "postgres": "postgres"}
"""Database -> the upstream overlay (also the mirror file name) that deploys it."""
REST_SERVICE = "model-registry-service"
REST_PORT = 8080


def model_registry_part(ref: str, database: str) -> ManifestPart:
    """The overlay for `database`, pinned to `ref`."""
    overlay = OVERLAYS[database]
    return ManifestPart(
        overlay,
        github_kustomize(MODEL_REGISTRY_REPO, f"manifests/kustomize/overlays/{overlay}", ref),
        "kustomize",
        f"{overlay}.yaml",
    )


MODEL_REGISTRY_VERSIONS = {
    version: (model_registry_part(version, "mysql"),) for version in ("v0.3.7",)
}


@dataclass
class ModelRegistryArgs(ComponentArgs):
    """Settings of a Model Registry install; the defaults install v0.3.7 with MySQL into the
    namespace `kubeflow`."""

    namespace: str | None = "kubeflow"
    """Namespace to install into (upstream sets none and documents `kubeflow`)."""
    database: str = "mysql"
    """`mysql` (upstream overlay `db`) or `postgres` (overlay `postgres`), each deployed in the
    namespace with a 10Gi volume (needs a default StorageClass)."""


class ModelRegistry(KubeflowComponent):
    """Kubeflow Model Registry: REST API server and its database."""

    COMPONENT = "model-registry"
    TYPE = "kubeflow:components:ModelRegistry"
    DEFAULT_VERSION = "v0.3.7"
    UPSTREAM_NAMESPACE = None
    VERSIONS = MODEL_REGISTRY_VERSIONS

    args: ModelRegistryArgs
    rest_endpoint: pulumi.Output[str]
    """In-cluster address of the REST API (`model-registry-service.<ns>.svc:8080`)."""

    def __init__(
        self,
        name: str,
        args: ModelRegistryArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or ModelRegistryArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """The database must be one upstream has an overlay for."""
        if not isinstance(args, ModelRegistryArgs):
            return []
        errors: list[str] = []
        if not isinstance(args.database, str) or args.database not in OVERLAYS:
            errors.append(
                f"model-registry: database {args.database!r} is not supported; fix: use "
                f"{' or '.join(OVERLAYS)}"
            )
        return errors

    def manifest_parts(self, source: ManifestSource) -> tuple[ManifestPart, ...]:
        """The overlay of the chosen database; a mirror holds one file per overlay, also for
        versions not in the table."""
        return (model_registry_part(self.resolved_version, self.args.database),)

    def makes_namespace(self) -> bool:
        """The manifests carry no Namespace (made unless `create_namespace` is false)."""
        return True

    def component_outputs(self) -> dict[str, Any]:
        """Adds the REST endpoint to the common outputs."""
        self.rest_endpoint = pulumi.Output.from_input(
            f"{REST_SERVICE}.{self.resolved_namespace}.svc:{REST_PORT}"
        )
        return {**super().component_outputs(), "rest_endpoint": self.rest_endpoint}
