"""Katib: hyperparameter tuning (Experiments, Suggestions, Trials), standalone with MySQL.

Upstream: `kubectl apply -k manifests/v1beta1/installs/katib-standalone?ref=<v>` of
kubeflow/katib: CRDs, katib-controller, katib-db-manager, katib-ui and a MySQL with a PVC
(needs a default StorageClass), in `kubeflow`.

Not the `katib-cert-manager` variant: in the standalone install katib-controller generates its
own webhook certificate into the Secret `katib-webhook-cert` and injects the CA into its
webhook configurations (OPA cert-controller), so Katib works without cert-manager and does
not make it a dependency. The standalone install labels its namespace
`katib.kubeflow.org/metrics-collector-injection: enabled`: Katib's pod webhook injects metrics
collectors into trial pods only in namespaces with that label.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.embedded_images import rehome_embedded_images
from components.manifests import KubeObject, ManifestPart, github_kustomize
from components.transforms import Transform
from components.validation import flag_errors

KATIB_REPO = "kubeflow/katib"
KATIB_NAMESPACE = "kubeflow"
INJECTION_LABEL = "katib.kubeflow.org/metrics-collector-injection"
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def katib_parts(ref: str) -> tuple[ManifestPart, ...]:
    """The standalone kustomization, pinned to `ref`."""
    path = "manifests/v1beta1/installs/katib-standalone"
    return (
        ManifestPart(
            "katib-standalone",
            github_kustomize(KATIB_REPO, path, ref),
            "kustomize",
            "katib-standalone.yaml",
        ),
    )


KATIB_VERSIONS = {"v0.19.0": katib_parts("v0.19.0")}


@dataclass
class KatibArgs(ComponentArgs):
    """Settings of a Katib install; the defaults install standalone v0.19.0 into `kubeflow`,
    creating the namespace unless a component installed before it runs there."""

    metrics_collector_injection: bool = True
    """Keep the namespace labelled for metrics collector injection, so Experiments can run
    in it. Katib's pod webhook then admits every pod created there; turn off when the
    namespace is shared (e.g. with Kubeflow Pipelines) and Experiments run elsewhere. When
    another component creates the namespace (`create_namespace` false, or None with Kubeflow
    Pipelines enabled), the namespace is only labelled, by a patch that is undone
    when Katib is removed."""


def label_namespace(namespace: str, enabled: bool) -> Transform:
    """Set (or, when not `enabled`, remove) the injection label on the install namespace."""

    def apply(obj: KubeObject) -> KubeObject:
        metadata = obj.get("metadata") or {}
        if obj["kind"] not in ("Namespace", "NamespacePatch") or metadata["name"] != namespace:
            return obj
        obj = copy.deepcopy(obj)
        labels = obj["metadata"].get("labels") or {}
        labels = {key: value for key, value in labels.items() if key != INJECTION_LABEL}
        obj["metadata"]["labels"] = {**labels, INJECTION_LABEL: "enabled"} if enabled else labels
        return obj

    return apply


def controller_identity(old: str, new: str) -> Transform:
    """The pod webhook skips pods katib-controller creates itself, by its service account
    name, `system:serviceaccount:<namespace>:katib-controller`; follow a namespace change."""
    old_account, new_account = f"system:serviceaccount:{old}:", f"system:serviceaccount:{new}:"

    def apply(obj: KubeObject) -> KubeObject:
        if old == new or obj["kind"] not in WEBHOOK_KINDS:
            return obj
        obj = copy.deepcopy(obj)
        for webhook in obj.get("webhooks") or []:
            for condition in webhook.get("matchConditions") or []:
                condition["expression"] = condition["expression"].replace(old_account, new_account)
        return obj

    return apply


class Katib(KubeflowComponent):
    """Katib standalone: controller, UI, DB manager and MySQL."""

    COMPONENT = "katib"
    TYPE = "kubeflow:components:Katib"
    DEFAULT_VERSION = "v0.19.0"
    UPSTREAM_NAMESPACE = KATIB_NAMESPACE
    VERSIONS = KATIB_VERSIONS

    args: KatibArgs
    ui_service: pulumi.Output[str]
    """In-cluster address of the Katib UI (`katib-ui.<ns>.svc:80`)."""
    db_manager_endpoint: pulumi.Output[str]
    """In-cluster gRPC address of the DB manager that stores metrics
    (`katib-db-manager.<ns>.svc:6789`)."""

    def __init__(
        self, name: str, args: KatibArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args or KatibArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """The switches must be true or false (a stack file may hold the string "false")."""
        if not isinstance(args, KatibArgs):
            return []
        return flag_errors("katib", {"metricsCollectorInjection": args.metrics_collector_injection})

    def own_objects(self) -> list[KubeObject]:
        """When another component created the namespace: a patch with the injection label."""
        if self.args.create_namespace is not False or not self.args.metrics_collector_injection:
            return []
        return [
            {
                "apiVersion": "v1",
                "kind": "NamespacePatch",
                "metadata": {"name": self.resolved_namespace},
            }
        ]

    def extra_transforms(self) -> list[Transform]:
        """The injection label as set; the webhook's own-pods exception follows the namespace;
        `image_registry` also moves the images of suggestions, metrics collectors and the
        default trial templates."""
        out = [
            label_namespace(self.resolved_namespace, self.args.metrics_collector_injection),
            controller_identity(KATIB_NAMESPACE, self.resolved_namespace),
        ]
        if self.args.image_registry:
            configs = {"katib-config", "trial-templates"}
            out.append(rehome_embedded_images(self.args.image_registry, configs))
        return out

    def component_outputs(self) -> dict[str, Any]:
        """Adds the UI service and the DB manager endpoint to the common outputs."""
        self.ui_service = pulumi.Output.from_input(f"katib-ui.{self.resolved_namespace}.svc:80")
        self.db_manager_endpoint = pulumi.Output.from_input(
            f"katib-db-manager.{self.resolved_namespace}.svc:6789"
        )
        return {
            **super().component_outputs(),
            "ui_service": self.ui_service,
            "db_manager_endpoint": self.db_manager_endpoint,
        }
