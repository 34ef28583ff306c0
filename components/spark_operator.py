"""Spark Operator: runs SparkApplications, installed from its upstream Helm chart.

Upstream: `helm install spark-operator spark-operator/spark-operator --namespace
spark-operator --create-namespace` from https://kubeflow.github.io/spark-operator. The
chart installs its CRDs, the controller and the mutating/validating webhook.

A manifest mirror holds the chart's CRDs as `crds.yaml` and, when someone has rendered
the chart with `helm template`, the rest as `controller.yaml`. The test mirror has the CRDs
ONLY: from it SparkApplications can be created but nothing runs them, and the install says
so with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.base import ComponentArgs, KubeflowComponent
from components.manifests import KubeObject, ManifestPart
from components.objects import namespace_object
from components.validation import flag_errors

CHART_REPO = "https://kubeflow.github.io/spark-operator"
CHART = "spark-operator"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def spark_parts(chart_version: str) -> tuple[ManifestPart, ...]:
    """The CRDs, then the chart at `chart_version`.

    Upstream the chart installs its own CRDs, so the `crds` part is mirror-only: there the
    CRDs are a file of their own, applied before the controller.
    """
    return (
        ManifestPart("crds", "", "helm", "crds.yaml"),
        ManifestPart(
            "controller",
            CHART_REPO,
            "helm",
            "controller.yaml",
            chart=CHART,
            chart_version=chart_version,
            mirror_optional=True,
        ),
    )


SPARK_VERSIONS = {f"v{version}": spark_parts(version) for version in ("2.4.0", "2.5.0")}


@dataclass
class SparkOperatorArgs(ComponentArgs):
    """Settings of a Spark Operator install; the defaults install chart 2.5.0 into
    `spark-operator`, running SparkApplications of the `default` namespace."""

    job_namespaces: Sequence[str] = ("default",)
    """Namespaces whose SparkApplications the operator runs (Helm value `spark.jobNamespaces`);
    each must exist. The chart gives each a `spark-operator-spark` service account for driver
    pods. A mirror's `controller.yaml` keeps the list it was rendered with."""
    webhook: bool = True
    """Run the admission webhook (Helm value `webhook.enable`), which applies the pod settings
    of a SparkApplication (volumes, affinity, tolerations, ...) to driver and executor pods."""
    create_namespace: bool | None = None
    """Create the operator namespace (the chart does not). None: create it unless a component
    installed before it in the same stack runs there."""


class SparkOperator(KubeflowComponent):
    """Kubeflow Spark Operator: the SparkApplication CRDs, controller and webhook."""

    COMPONENT = "spark-operator"
    TYPE = "kubeflow:components:SparkOperator"
    DEFAULT_VERSION = "v2.5.0"
    UPSTREAM_NAMESPACE = "spark-operator"
    VERSIONS = SPARK_VERSIONS

    args: SparkOperatorArgs
    job_namespaces: pulumi.Output[list[str]]
    """The namespaces whose SparkApplications the operator runs."""

    def __init__(
        self,
        name: str,
        args: SparkOperatorArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or SparkOperatorArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """Job namespaces must be a non-empty list of namespace names; flags true or false."""
        if not isinstance(args, SparkOperatorArgs):
            return []
        errors = flag_errors(
            "spark-operator", {"webhook": args.webhook, "createNamespace": args.create_namespace}
        )
        names = args.job_namespaces
        if isinstance(names, str) or not isinstance(names, Sequence) or not names:
            return [
                *errors,
                f"spark-operator: jobNamespaces = {names!r} is not a list of namespaces; "
                "fix: give a list such as [default, spark-jobs]",
            ]
        invalid = [
            f"spark-operator: jobNamespaces entry {name!r} is not a valid namespace name; fix: "
            "use lower-case letters, digits and '-', at most 63 characters"
            for name in names
            if not isinstance(name, str) or not _DNS_LABEL.match(name) or len(name) > 63
        ]
        errors += invalid
        if not invalid and len(set(names)) != len(names):
            errors.append(
                f"spark-operator: jobNamespaces lists a namespace twice: {list(names)}; "
                "fix: list each once"
            )
        return errors

    def own_objects(self) -> list[KubeObject]:
        """The operator namespace, unless it is left to another component or the user."""
        create = self.args.create_namespace is not False
        return [namespace_object(self.resolved_namespace)] if create else []

    def helm_values(self) -> dict[str, Any]:
        """Job namespaces and the webhook switch; everything else keeps the chart defaults."""
        return {
            "spark": {"jobNamespaces": list(self.args.job_namespaces)},
            "webhook": {"enable": self.args.webhook},
        }

    def component_outputs(self) -> dict[str, Any]:
        """Adds the job namespaces to the common outputs."""
        self.job_namespaces = pulumi.Output.from_input(list(self.args.job_namespaces))
        return {**super().component_outputs(), "job_namespaces": self.job_namespaces}
