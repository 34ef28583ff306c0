"""SparkOperator under Pulumi mocks: the Helm chart upstream, the chart's render in the mirror."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components import MirrorSource, SparkOperator, SparkOperatorArgs
from components.manifests import ManifestError, load_objects
from components.render import Reference
from components.spark_operator import CHART_REPO
from components.transforms import CLUSTER_SCOPED_KINDS, POD_SECURITY
from components.upstream import UpstreamSource
from tests.paths import MIRROR
from tests.unit.component_helpers import (
    FLAG,
    install,
    kube_objects,
    pulumi_warnings,
    refused,
    resolved,
    unmade_namespaces,
)
from tests.unit.mirror_helpers import named, small_mirror
from tests.unit.mocks import Recorder, Registered

SPARK = MIRROR / "spark-operator" / "v2.5.0"


@pytest.fixture(scope="module")
def mirrored() -> tuple[Recorder, list[str]]:
    """The one install from the mirror (its CRD file is 1.7 MB), with the warnings it logged."""
    with pulumi_warnings() as warnings:
        recorder = install(SparkOperator, SparkOperatorArgs(source=MirrorSource(MIRROR)))
    return recorder, warnings


def _installed(recorder: Recorder) -> dict[tuple[str, str, str], Registered]:
    return {
        (
            r.inputs["kind"],
            r.inputs["metadata"].get("namespace", ""),
            r.inputs["metadata"]["name"],
        ): r
        for r in kube_objects(recorder)
    }


def test_mirror_install_is_the_whole_operator_without_a_warning(
    mirrored: tuple[Recorder, list[str]],
) -> None:
    recorder, warnings = mirrored
    upstream = load_objects(SPARK / "crds.yaml") + load_objects(SPARK / "controller.yaml")
    installed = _installed(recorder)
    # every upstream object, once, plus the operator namespace the chart leaves to helm
    assert len(installed) == len(upstream) + 1
    assert {(k, n) for k, _, n in installed} == {
        (o["kind"], o["metadata"]["name"]) for o in upstream
    } | {("Namespace", "spark-operator")}
    assert ("Deployment", "spark-operator", "spark-operator-controller") in installed
    assert ("Deployment", "spark-operator", "spark-operator-webhook") in installed
    assert ("Service", "spark-operator", "spark-operator-webhook-svc") in installed
    assert not [w for w in warnings if "spark-operator" in w]


def test_every_namespaced_object_is_in_the_operator_or_a_job_namespace(
    mirrored: tuple[Recorder, list[str]],
) -> None:
    recorder, _ = mirrored
    for (kind, namespace, name), _resource in _installed(recorder).items():
        if kind in CLUSTER_SCOPED_KINDS:
            assert namespace == "", (kind, name)  # the chart's namespace on ClusterRoles goes
        else:
            assert namespace in ("spark-operator", "default"), (kind, name)


def test_the_crds_come_before_the_controller_and_the_webhooks_after_it(
    mirrored: tuple[Recorder, list[str]],
) -> None:
    recorder, _ = mirrored
    installed = _installed(recorder)
    (namespace,) = [r for (k, _, _), r in installed.items() if k == "Namespace"]
    crds = [r for (k, _, _), r in installed.items() if k == "CustomResourceDefinition"]
    assert len(crds) == 3
    assert all(namespace.urn in recorder.waits_for(crd) for crd in crds)
    controller = installed[("Deployment", "spark-operator", "spark-operator-controller")]
    webhook_server = installed[("Deployment", "spark-operator", "spark-operator-webhook")]
    assert {crd.urn for crd in crds} <= recorder.waits_for(controller)
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        assert webhook_server.urn in recorder.waits_for(
            installed[(kind, "", "spark-operator-webhook")]
        )


def test_job_namespaces_move_the_job_rbac_the_flags_and_the_webhook_selectors() -> None:
    args = SparkOperatorArgs(
        source=MirrorSource(MIRROR), namespace="spark", job_namespaces=["spark-jobs", "team-a"]
    )
    installed = _installed(install(SparkOperator, args))
    for job_namespace in ("spark-jobs", "team-a"):
        assert ("ServiceAccount", job_namespace, "spark-operator-spark") in installed
        binding = installed[("RoleBinding", job_namespace, "spark-operator-spark")]
        assert binding.inputs["subjects"][0]["namespace"] == job_namespace
        # the controller's binding in the job namespace still names its own service account
        controller_binding = installed[("RoleBinding", job_namespace, "spark-operator-controller")]
        assert controller_binding.inputs["subjects"][0]["namespace"] == "spark"
    assert not [key for key in installed if key[1] == "default"]
    for name in ("spark-operator-controller", "spark-operator-webhook"):
        (container,) = installed[("Deployment", "spark", name)].inputs["spec"]["template"]["spec"][
            "containers"
        ]
        args_ = container["args"]
        assert "--namespaces=spark-jobs,team-a" in args_
        assert not [a for a in args_ if a.endswith("-namespace=spark-operator")]
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        webhooks = installed[(kind, "", "spark-operator-webhook")].inputs["webhooks"]
        assert webhooks, kind
        for webhook in webhooks:
            (expression,) = webhook["namespaceSelector"]["matchExpressions"]
            assert expression["values"] == ["spark-jobs", "team-a"]
            assert webhook["clientConfig"]["service"]["namespace"] == "spark"


def test_webhook_off_leaves_the_webhook_out_of_a_mirror_install() -> None:
    args = SparkOperatorArgs(source=MirrorSource(MIRROR), webhook=False)
    installed = _installed(install(SparkOperator, args))
    assert [key for key in installed if "webhook" in key[2]] == []
    assert ("Deployment", "spark-operator", "spark-operator-controller") in installed


def test_replicas_and_resources_name_only_workloads_the_settings_keep(tmp_path: Path) -> None:
    """With `webhook` off the webhook's Deployment is left out, so it is no name for
    `replicas` (or `resources`): the names are checked against what the install keeps."""
    files = ("crds.yaml", "controller.yaml")
    mirror = small_mirror(tmp_path, "spark-operator", "v2.5.0", files, named("Deployment"))
    webhook = {"spark-operator-webhook": 2}
    args = SparkOperatorArgs(source=mirror, webhook=False, replicas=webhook)
    message = refused(SparkOperator, args, r"replicas\['spark-operator-webhook'\] names no ")
    assert message.endswith("use one of spark-operator-controller")
    install(SparkOperator, SparkOperatorArgs(source=mirror, replicas=webhook))  # webhook on


def test_a_mirror_without_the_controller_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "spark-operator" / "v2.5.0"
    folder.mkdir(parents=True)
    (folder / "crds.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: sparkapplications.sparkoperator.k8s.io}\n"
    )
    with pytest.raises(ManifestError, match=r"controller\.yaml") as error:
        install(SparkOperator, SparkOperatorArgs(source=MirrorSource(tmp_path)))
    assert "fix:" in str(error.value)


def test_upstream_install_renders_the_pinned_chart_and_applies_the_settings(
    rendered: list[Reference],
) -> None:
    """The chart is rendered with its default values (one render, one digest), and the
    settings act on its objects as on a mirror's: job namespaces, webhook off, namespace."""
    args = SparkOperatorArgs(namespace="spark", job_namespaces=["team-a", "team-b"], webhook=False)
    recorder = install(SparkOperator, args)
    assert rendered == [Reference("helm", CHART_REPO, "spark-operator", "2.5.0", "spark-operator")]
    namespaces = [r.metadata for r in kube_objects(recorder) if r.inputs["kind"] == "Namespace"]
    # the chart makes none of them: the operator's, then the job namespaces at baseline
    assert [n["name"] for n in namespaces] == ["spark", "team-a", "team-b"]
    levels = [n["labels"][f"{POD_SECURITY}/enforce"] for n in namespaces]
    assert levels == ["restricted", "baseline", "baseline"]
    assert unmade_namespaces(recorder) == []
    installed = _installed(recorder)
    assert [key for key in installed if "webhook" in key[2]] == []
    for job_namespace in ("team-a", "team-b"):
        assert ("ServiceAccount", job_namespace, "spark-operator-spark") in installed
    (container,) = installed[("Deployment", "spark", "spark-operator-controller")].inputs["spec"][
        "template"
    ]["spec"]["containers"]
    assert "--namespaces=team-a,team-b" in container["args"]


def test_job_namespaces_that_exist_already_are_left_to_the_cluster() -> None:
    args = SparkOperatorArgs(job_namespaces=["team-a"], create_job_namespaces=False)
    recorder = install(SparkOperator, args)
    namespaces = [r.metadata["name"] for r in recorder.of_type("kubernetes:core/v1:Namespace")]
    assert namespaces == ["spark-operator"]
    assert ("ServiceAccount", "team-a", "spark-operator-spark") in _installed(recorder)


def test_defaults_run_jobs_of_default_and_an_older_chart_is_pinned_too() -> None:
    installed = _installed(install(SparkOperator, SparkOperatorArgs(create_namespace=False)))
    assert ("ServiceAccount", "default", "spark-operator-spark") in installed
    assert ("Deployment", "spark-operator", "spark-operator-webhook") in installed
    assert "Namespace" not in {kind for kind, _, _ in installed}
    older = SparkOperatorArgs(version="v2.4.0")
    _, _, (crds, chart) = SparkOperator.planned_parts(older, UpstreamSource())
    assert not crds.upstream  # the chart renders its CRDs itself
    assert Reference.of(chart) == Reference(
        "helm", CHART_REPO, "spark-operator", "2.4.0", "spark-operator"
    )


def test_outputs_name_the_namespace_and_the_job_namespaces() -> None:
    def outputs() -> dict[str, Any]:
        spark = SparkOperator("spark", SparkOperatorArgs(job_namespaces=["jobs"]))
        return {"version": spark.version, "ns": spark.namespace, "jobs": spark.job_namespaces}

    assert resolved(outputs) == {"version": "v2.5.0", "ns": "spark-operator", "jobs": ["jobs"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (SparkOperatorArgs(job_namespaces=[]), r"jobNamespaces = \[\] is not a list"),
        (SparkOperatorArgs(job_namespaces="default"), "jobNamespaces = 'default' is not a list"),
        (
            SparkOperatorArgs(job_namespaces=["Team_A"]),
            "entry 'Team_A' is not a valid Kubernetes namespace name; fix: use lower-case",
        ),
        (
            SparkOperatorArgs(job_namespaces=[["a"]]),  # type: ignore[list-item]  # bad on purpose
            r"entry \['a'\] is not a valid Kubernetes namespace name",
        ),
        (SparkOperatorArgs(job_namespaces=["a", "a"]), "lists a namespace twice"),
        (SparkOperatorArgs(version="2.5.0"), "version '2.5.0' is not a known version"),
        (
            SparkOperatorArgs(webhook="false"),  # type: ignore[arg-type]  # bad on purpose
            f"webhook = 'false' {FLAG}",
        ),
        (
            SparkOperatorArgs(create_job_namespaces="no"),  # type: ignore[arg-type]  # bad on purpose
            f"createJobNamespaces = 'no' {FLAG}",
        ),
    ],
)
def test_bad_args_fail_before_anything_is_registered(args: SparkOperatorArgs, message: str) -> None:
    assert "fix:" in refused(SparkOperator, args, message)
