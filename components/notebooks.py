"""Kubeflow Notebooks: the notebook controller, which runs `Notebook` objects as Jupyter
StatefulSets in any namespace.

Upstream: the standalone overlay of the notebook controller (its own namespace
`notebook-controller-system`, USE_ISTIO=false, no cert-manager). It is taken from the copy
kubeflow/manifests vendors (`applications/jupyter/notebook-controller/upstream`), not from
kubeflow/kubeflow `components/notebook-controller/config`: it is the same v1.10.0
controller plus a restricted securityContext, and it is what the manifest mirror holds,
so both sources install the same objects.

Without Istio, the Jupyter web app and profiles, notebooks are created with kubectl and
reached by port-forward to their Service; culling of idle notebooks is off unless asked.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import KubeObject, ManifestPart, github_kustomize
from components.transforms import Transform, pod_spec

MANIFESTS_REPO = "kubeflow/manifests"
NOTEBOOKS_SOURCES = {
    "v1.10.0": ("26.03", "applications/jupyter/notebook-controller/upstream"),
    "v1.11.0": ("26.03.1", "applications/notebooks-v1/upstream/notebook-controller"),
}
"""Notebook controller version -> the kubeflow/manifests release that vendors it, and where
(the folder moved in 26.03.1)."""
CONFIG_MAP = "notebook-controller-config"
"""Name prefix of the controller's settings (kustomize appends a content hash)."""
CONTROLLER = "notebook-controller-deployment"
CULLING_ANNOTATION = "kubeflow-pulumi/cull-idle-minutes"


def notebooks_parts(release: str, folder: str) -> tuple[ManifestPart, ...]:
    """The standalone overlay in `folder`, pinned to a kubeflow/manifests release."""
    path = f"{folder}/overlays/standalone"
    return (
        ManifestPart(
            "standalone",
            github_kustomize(MANIFESTS_REPO, path, release),
            "kustomize",
            "standalone.yaml",
        ),
    )


NOTEBOOKS_VERSIONS = {
    version: notebooks_parts(release, folder)
    for version, (release, folder) in NOTEBOOKS_SOURCES.items()
}


@dataclass
class NotebooksArgs(ComponentArgs):
    """Settings of a notebook controller install; the defaults install v1.10.0 into
    `notebook-controller-system` with culling off."""

    cull_idle_minutes: int | None = None
    """Stop notebooks idle for this many minutes (upstream CULL_IDLE_TIME; None keeps upstream's
    ENABLE_CULLING=false). Idleness is read from the Jupyter server's kernel activity."""


class Notebooks(KubeflowComponent):
    """Kubeflow Notebook controller (standalone, no Istio); `namespace` is the controller's."""

    COMPONENT = "notebook-controller"
    TYPE = "kubeflow:components:Notebooks"
    DEFAULT_VERSION = "v1.10.0"
    UPSTREAM_NAMESPACE = "notebook-controller-system"
    VERSIONS = NOTEBOOKS_VERSIONS

    args: NotebooksArgs

    def __init__(
        self,
        name: str,
        args: NotebooksArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or NotebooksArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """Culling needs a positive whole number of minutes."""
        if not isinstance(args, NotebooksArgs) or args.cull_idle_minutes is None:
            return []
        minutes = args.cull_idle_minutes
        if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
            return []
        return [
            f"notebooks: cullIdleMinutes = {minutes!r} is not a positive number of minutes; "
            "fix: e.g. 1440 for a day, or unset it to keep culling off"
        ]

    def extra_transforms(self) -> list[Transform]:
        """Culling, when asked for."""
        minutes = self.args.cull_idle_minutes
        return [enable_culling(minutes)] if minutes is not None else []


def enable_culling(idle_minutes: int) -> Transform:
    """Turn on culling in the controller's ConfigMap, and restart the controller on a change.

    The controller reads the ConfigMap into its environment at start only, so the same
    value goes into a pod template annotation: changing it rolls the Deployment.
    """

    def apply(obj: KubeObject) -> KubeObject:
        name = str(obj["metadata"].get("name", ""))
        if obj["kind"] == "ConfigMap" and name.startswith(CONFIG_MAP):
            obj = copy.deepcopy(obj)
            obj["data"] = {
                **(obj.get("data") or {}),
                "ENABLE_CULLING": "true",
                "CULL_IDLE_TIME": str(idle_minutes),
            }
        elif obj["kind"] == "Deployment" and name == CONTROLLER and pod_spec(obj) is not None:
            obj = copy.deepcopy(obj)
            template = obj["spec"]["template"].setdefault("metadata", {})
            template["annotations"] = {
                **(template.get("annotations") or {}),
                CULLING_ANNOTATION: str(idle_minutes),
            }
        return obj

    return apply
