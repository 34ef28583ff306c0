"""Spark Operator: runs SparkApplications, installed from its upstream Helm chart.

Upstream: `helm install spark-operator spark-operator/spark-operator --namespace
spark-operator --create-namespace` from https://kubeflow.github.io/spark-operator. The
chart installs its CRDs, the controller and the mutating/validating webhook.

The pinned chart is rendered with `helm template` and the chart's default values (CRDs
included), so its render, and its digest in the lock, do not depend on settings; a manifest
mirror holds the same render as `crds.yaml` (the chart's CRDs) and `controller.yaml` (the
rest: controller, webhook, RBAC). Such a render differs from `helm install` with values in
ways the component makes up for, from either source:
- `helm install -n <ns>` puts the objects the templates leave without a namespace (the
  webhook Service and both Deployments) into the release namespace: here, the operator's.
- The job namespaces are baked in (`default`): the job service account, the Roles and
  RoleBindings of the job namespace, the controller's and webhook's `--namespaces` flag and
  the webhooks' namespace selectors. `job_namespaces` repeats the job objects per namespace
  and rewrites the flag and the selectors, as the chart's `spark.jobNamespaces` value does.
- The chart creates no job namespace (`--create-namespace` makes the release namespace only).
  The component creates each one that no component before it makes and Kubernetes does not
  have from the start (`default`, `kube-system`, `kube-public`, `kube-node-lease`), at the
  Pod Security level of users' pods.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import KubeObject, ManifestPart
from components.objects import BUILT_IN_NAMESPACES, namespace_object
from components.pod_security import pod_security_level
from components.transforms import POD_SECURITY, Transform, containers, release_namespace
from components.validation import flag_errors, namespace_error

CHART_REPO = "https://kubeflow.github.io/spark-operator"
CHART = "spark-operator"
RELEASE = "spark-operator"
"""The Helm release name the chart's object names start with."""
SPARK_NAMESPACE = "spark-operator"
"""The release namespace the chart is rendered into (upstream's)."""
RENDERED_JOB_NAMESPACES = ("default",)
"""The job namespaces a render of the chart has (its default values), from either source."""
JOBS_POD_SECURITY = "spark-jobs"
"""The key of the job namespaces' level in data/pod_security.yaml."""
NAMESPACES_FLAG = "--namespaces="
NAMESPACE_SELECTOR_KEY = "kubernetes.io/metadata.name"


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
            namespace=SPARK_NAMESPACE,
        ),
    )


SPARK_VERSIONS = {f"v{version}": spark_parts(version) for version in ("2.4.0", "2.5.0")}


@dataclass
class SparkOperatorArgs(ComponentArgs):
    """Settings of a Spark Operator install; the defaults install chart 2.5.0 into
    `spark-operator`, running SparkApplications of the `default` namespace."""

    job_namespaces: Sequence[str] = ("default",)
    """Namespaces whose SparkApplications the operator runs (what the chart's value
    `spark.jobNamespaces` does). The chart gives each a `spark-operator-spark` service account
    for driver pods: the render's job objects are repeated for each of these."""
    create_job_namespaces: bool = True
    """Create each job namespace that is not one Kubernetes has from the start (`default`,
    `kube-system`, `kube-public`, `kube-node-lease`), not the operator's own and not made by
    a component installed before it (`shared_namespaces`; KubeflowPlatform settles it:
    `catalog.share_namespaces`, and a component installed after it in one waits for its
    Namespace). Each is a Namespace of the component, kept when it keeps data
    (`keep_data`). False where they exist already."""
    webhook: bool = True
    """Run the admission webhook (what the chart's value `webhook.enable` does), which applies
    the pod settings of a SparkApplication (volumes, affinity, tolerations, ...) to driver and
    executor pods. Off leaves out the webhook's objects."""


class SparkOperator(KubeflowComponent):
    """Kubeflow Spark Operator: the SparkApplication CRDs, controller and webhook."""

    COMPONENT = "spark-operator"
    TYPE = "kubeflow:components:SparkOperator"
    DEFAULT_VERSION = "v2.5.0"
    UPSTREAM_NAMESPACE = SPARK_NAMESPACE
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
            "spark-operator",
            {"webhook": args.webhook, "createJobNamespaces": args.create_job_namespaces},
        )
        names = args.job_namespaces
        if isinstance(names, str) or not isinstance(names, Sequence) or not names:
            return [
                *errors,
                f"spark-operator: jobNamespaces = {names!r} is not a list of namespaces; "
                "fix: give a list such as [default, spark-jobs]",
            ]
        invalid = [
            f"spark-operator: {problem}"
            for name in names
            if (problem := namespace_error("jobNamespaces entry", name))
        ]
        errors += invalid
        if not invalid and len(set(names)) != len(names):
            errors.append(
                f"spark-operator: jobNamespaces lists a namespace twice: {list(names)}; "
                "fix: list each once"
            )
        return errors

    def makes_namespace(self) -> bool:
        """The chart leaves the operator namespace to `helm install --create-namespace`."""
        return True

    @classmethod
    def other_namespaces(cls, args: ComponentArgs) -> tuple[str, ...]:
        """The job namespaces it creates where no component before it runs (`own_objects`)."""
        if not isinstance(args, SparkOperatorArgs) or args.create_job_namespaces is not True:
            return ()
        names = args.job_namespaces
        if isinstance(names, str) or not isinstance(names, Sequence):
            return ()  # refused by check()
        return tuple(n for n in names if isinstance(n, str) and n not in BUILT_IN_NAMESPACES)

    def own_objects(self) -> list[KubeObject]:
        """The operator namespace, then each job namespace no component before it makes,
        enforcing the level of users' pods (Spark drivers and executors)."""
        made = {*self.args.shared_namespaces, self.resolved_namespace}
        level = {f"{POD_SECURITY}/enforce": pod_security_level(JOBS_POD_SECURITY)}
        jobs = [namespace_object(ns) for ns in self.other_namespaces(self.args) if ns not in made]
        for namespace in jobs:
            namespace["metadata"]["labels"] = dict(level)
        return [*super().own_objects(), *jobs]

    def include(self, obj: KubeObject) -> bool:
        """The webhook's objects only with `webhook`."""
        name = str((obj.get("metadata") or {}).get("name", ""))
        return self.args.webhook or not name.startswith(f"{RELEASE}-webhook")

    def expand(self, obj: KubeObject) -> list[KubeObject]:
        """An object of a rendered job namespace, once per job namespace."""
        rendered = (obj.get("metadata") or {}).get("namespace")
        if rendered not in RENDERED_JOB_NAMESPACES:
            return [obj]
        return [_in_job_namespace(obj, rendered, ns) for ns in self.args.job_namespaces]

    def extra_transforms(self) -> list[Transform]:
        """Namespace-less objects into the operator namespace (as `helm install -n` does), and
        the job namespaces in the controller's flags and the webhooks' selectors."""
        return [
            release_namespace(self.resolved_namespace),
            set_job_namespaces(self.args.job_namespaces, self.resolved_namespace),
        ]

    def component_outputs(self) -> dict[str, Any]:
        """Adds the job namespaces to the common outputs."""
        self.job_namespaces = pulumi.Output.from_input(list(self.args.job_namespaces))
        return {**super().component_outputs(), "job_namespaces": self.job_namespaces}


def _in_job_namespace(obj: KubeObject, rendered: str, namespace: str) -> KubeObject:
    """A copy of a job-namespace object in `namespace`, with its subjects of `rendered`."""
    copied = copy.deepcopy(obj)
    copied["metadata"]["namespace"] = namespace
    for subject in copied.get("subjects") or []:
        if subject.get("namespace") == rendered:
            subject["namespace"] = namespace
    return copied


def set_job_namespaces(job_namespaces: Sequence[str], operator_namespace: str) -> Transform:
    """The job namespaces in the `--namespaces` flag of the operator's containers and in the
    namespace selectors of its webhooks; the operator's own namespace in its other
    `--*-namespace` flags."""
    joined = ",".join(job_namespaces)

    def flag(arg: str) -> str:
        name, equals, value = arg.partition("=")
        if arg.startswith(NAMESPACES_FLAG):
            return NAMESPACES_FLAG + joined
        if equals and name.startswith("--") and name.endswith("-namespace") and value:
            return f"{name}={operator_namespace}"
        return arg

    def apply(obj: KubeObject) -> KubeObject:
        if obj["kind"] == "Deployment":
            obj = copy.deepcopy(obj)
            for container in containers(obj):
                container["args"] = [flag(a) for a in container.get("args") or []]
        elif obj["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            obj = copy.deepcopy(obj)
            for webhook in obj.get("webhooks") or []:
                selector = webhook.get("namespaceSelector") or {}
                for expression in selector.get("matchExpressions") or []:
                    if expression.get("key") == NAMESPACE_SELECTOR_KEY:
                        expression["values"] = list(job_namespaces)
        return obj

    return apply
