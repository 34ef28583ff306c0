"""KServe: model serving (InferenceService) on Kubernetes.

Upstream: the release files of kserve/kserve, applied in order as its install guide does:
`kserve.yaml` (CRDs, controllers, webhooks; namespace `kserve`), then
`kserve-cluster-resources.yaml` (ClusterServingRuntimes, the default ClusterStorageContainer,
LLMInferenceServiceConfigs), which the first file's webhooks admit. The webhooks' certificates
come from cert-manager, which its workloads wait for (`ComponentArgs.requires`).

Deployment mode: upstream's release defaults to Knative (its ConfigMap still says
`Serverless`, the old name), which needs Knative Serving and an ingress such as Istio, which
this project does not install. The component defaults to `Standard` (plain Deployments,
Services and autoscalers), so KServe serves with cert-manager alone; `Knative` is a setting.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.cert_manager import follow_namespace
from components.embedded_images import rehome_embedded_images
from components.manifests import KubeObject, ManifestError, ManifestPart, github_release_file
from components.transforms import Transform, release_namespace
from components.validation import flag_errors

KSERVE_REPO = "kserve/kserve"
KSERVE_NAMESPACE = "kserve"
CONFIG_MAP = "inferenceservice-config"
DEPLOYMENT_MODES = ("Standard", "Knative")
LEGACY_MODES = {"RawDeployment": "Standard", "Serverless": "Knative"}
"""Names KServe used before v0.16; it still reads them, but this component writes the new."""
_LATEST_KSERVE_IMAGE = re.compile(r"(?<![\w.-])((?:[\w.-]+/)*kserve/[\w.-]+):latest")


def kserve_parts(tag: str, *, split: bool = False) -> tuple[ManifestPart, ...]:
    """The two release files of `tag`, in install order.

    `split`: a mirror holds `kserve.yaml` as four files (it is over 6 MB from v0.18.0): the
    two LLMInferenceService CRDs, the other CRDs, then the rest, which upstream is the
    release file itself.
    """
    release_file = github_release_file(KSERVE_REPO, tag, "kserve.yaml")
    mirror_only = ("crds-llmisvc-configs", "crds-llmisvc", "crds-other") if split else ()
    return (
        *(ManifestPart(name, "", "file", f"kserve.{name}.yaml") for name in mirror_only),
        ManifestPart(
            "kserve", release_file, "file", "kserve.rest.yaml" if split else "kserve.yaml"
        ),
        ManifestPart(
            "kserve-cluster-resources",
            github_release_file(KSERVE_REPO, tag, "kserve-cluster-resources.yaml"),
            "file",
            "kserve-cluster-resources.yaml",
        ),
    )


KSERVE_VERSIONS = {
    "v0.16.0": kserve_parts("v0.16.0"),
    "v0.18.0": kserve_parts("v0.18.0", split=True),
}
RENDERS_NAMESPACE = frozenset({"v0.16.0"})
"""Versions whose release file carries the Namespace; from v0.18.0 it does not."""


def set_deployment_mode(mode: str) -> Transform:
    """Write `mode` as `deploy.defaultDeploymentMode` of the `inferenceservice-config`
    ConfigMap (KServe's documented switch; other keys of `deploy` are kept)."""

    def apply(obj: KubeObject) -> KubeObject:
        if obj["kind"] != "ConfigMap" or obj["metadata"]["name"] != CONFIG_MAP:
            return obj
        obj = copy.deepcopy(obj)
        data = obj.setdefault("data", {})
        try:
            deploy = json.loads(data.get("deploy") or "{}")
        except json.JSONDecodeError as error:
            raise ManifestError(
                f"kserve: the deploy entry of ConfigMap {CONFIG_MAP} is not JSON ({error}); "
                "fix: set deploymentMode through a transform of your own for this version"
            ) from error
        data["deploy"] = json.dumps({**deploy, "defaultDeploymentMode": mode}, indent=2)
        return obj

    return apply


def pin_latest_images(tag: str) -> Transform:
    """Retag KServe images `:latest` -> `:<tag>`, as KServe's release script does to the render
    of `config/` (`sed s/:latest/:<tag>/`), wherever they appear: containers, runtimes,
    ConfigMap JSON. Other images keep their tags; CRD schemas are left alone."""

    def pin(value: Any) -> Any:
        if isinstance(value, str):
            return _LATEST_KSERVE_IMAGE.sub(rf"\g<1>:{tag}", value)
        if isinstance(value, dict):
            return {key: pin(item) for key, item in value.items()}
        if isinstance(value, list):
            return [pin(item) for item in value]
        return value

    def apply(obj: KubeObject) -> KubeObject:
        if obj["kind"] == "CustomResourceDefinition" or ":latest" not in json.dumps(obj):
            return obj
        pinned: KubeObject = pin(obj)
        return pinned

    return apply


@dataclass
class KServeArgs(ComponentArgs):
    """Settings of a KServe install; the defaults install v0.16.0 into `kserve` in the
    Standard deployment mode (needs cert-manager)."""

    deployment_mode: str = "Standard"
    """Default deployment mode of InferenceServices: `Standard` (Deployments, Services,
    autoscalers) or `Knative` (serverless, scale to zero; needs Knative Serving and Istio
    installed first). One InferenceService can choose otherwise with the annotation
    `serving.kserve.io/deploymentMode`."""
    pin_latest_images: bool = True
    """Retag KServe images tagged `:latest` with the release tag, as KServe's release does, so
    a render of KServe's `config/` (e.g. in a mirror) installs the release it names."""


class KServe(KubeflowComponent):
    """KServe controllers, webhooks, CRDs and cluster serving runtimes."""

    COMPONENT = "kserve"
    TYPE = "kubeflow:components:KServe"
    DEFAULT_VERSION = "v0.16.0"
    UPSTREAM_NAMESPACE = KSERVE_NAMESPACE
    VERSIONS = KSERVE_VERSIONS

    args: KServeArgs
    deployment_mode: pulumi.Output[str]
    """The default deployment mode InferenceServices get."""

    def __init__(
        self, name: str, args: KServeArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args or KServeArgs(), opts)

    def settle(self, args: ComponentArgs) -> None:
        """Also starts the set of objects already included (`include`), per install or plan."""
        super().settle(args)
        self._included: set[tuple[str, str, str]] = set()

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """A known deployment mode (pointing from the old names to the new) and a boolean."""
        if not isinstance(args, KServeArgs):
            return []
        errors: list[str] = []
        mode = args.deployment_mode
        if mode not in DEPLOYMENT_MODES:
            hint = LEGACY_MODES.get(mode) if isinstance(mode, str) else None
            errors.append(
                f"kserve: deploymentMode {mode!r} is not a deployment mode; fix: use "
                + (f"{hint!r}, its current name" if hint else " or ".join(DEPLOYMENT_MODES))
            )
        return errors + flag_errors("kserve", {"pinLatestImages": args.pin_latest_images})

    def include(self, obj: KubeObject) -> bool:
        """Each object once: both release files carry the same LLMInferenceServiceConfigs, and
        two Pulumi resources for one object would each own (and delete) it."""
        metadata = obj["metadata"]
        identity = (obj["kind"], metadata.get("namespace", ""), metadata["name"])
        first = identity not in self._included
        self._included.add(identity)
        return first

    def makes_namespace(self) -> bool:
        """For the versions whose release file no longer carries the Namespace."""
        return self.resolved_version not in RENDERS_NAMESPACE

    def extra_transforms(self) -> list[Transform]:
        """Deployment mode, certificate names that follow the namespace, image tags, and the
        images of runtimes and of the ConfigMap for `image_registry`."""
        out: list[Transform] = [
            release_namespace(self.resolved_namespace),
            set_deployment_mode(self.args.deployment_mode),
            follow_namespace(KSERVE_NAMESPACE, self.resolved_namespace),
        ]
        if self.args.pin_latest_images:
            out.append(pin_latest_images(self.resolved_version))
        if self.args.image_registry:
            out.append(rehome_embedded_images(self.args.image_registry, {CONFIG_MAP}))
        return out

    def component_outputs(self) -> dict[str, Any]:
        """Adds the deployment mode to the common outputs."""
        self.deployment_mode = pulumi.Output.from_input(self.args.deployment_mode)
        return {**super().component_outputs(), "deployment_mode": self.deployment_mode}
