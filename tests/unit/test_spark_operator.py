"""SparkOperator under Pulumi mocks: the Helm chart upstream, the CRDs-only mirror."""

from __future__ import annotations

import pulumi
import pytest

from components import ComponentArgsError, MirrorSource, SparkOperator, SparkOperatorArgs
from components.manifests import load_objects
from tests.unit.component_helpers import identities, install, kube_objects, pulumi_warnings
from tests.unit.mocks import MIRROR, Recorder, run

SPARK = MIRROR / "spark-operator" / "v2.5.0"
CHART_TYPE = "kubernetes:helm.sh/v4:Chart"


@pytest.fixture(scope="module")
def mirrored() -> tuple[Recorder, list[str]]:
    """The one install from the mirror (its CRD file is 1.7 MB), with the warnings it logged."""
    with pulumi_warnings() as warnings:
        recorder = install(SparkOperator, SparkOperatorArgs(source=MirrorSource(MIRROR)))
    return recorder, warnings


def test_mirror_install_is_the_namespace_and_the_crds_only(mirrored):
    recorder, _ = mirrored
    expected = identities(load_objects(SPARK / "crds.yaml"))
    expected[("Namespace", "", "spark-operator")] += 1
    assert identities([r.inputs for r in kube_objects(recorder)]) == expected
    assert sum(expected.values()) == 4
    assert not recorder.of_type(CHART_TYPE)


def test_mirror_without_the_controller_says_so(mirrored):
    _, warnings = mirrored
    (warning,) = [w for w in warnings if "spark-operator" in w]
    assert "no controller.yaml" in warning
    assert "'controller' is NOT installed (only crds)" in warning
    assert "fix: render it into" in warning


def test_the_namespace_comes_before_the_crds(mirrored):
    recorder, _ = mirrored
    (namespace,) = [r for r in kube_objects(recorder) if r.inputs["kind"] == "Namespace"]
    crds = [r for r in kube_objects(recorder) if r.inputs["kind"] == "CustomResourceDefinition"]
    assert len(crds) == 3
    assert all(namespace.urn in crd.dependencies for crd in crds)


def test_a_mirror_with_the_controller_installs_it_after_the_crds(tmp_path):
    folder = tmp_path / "spark-operator" / "v2.5.0"
    folder.mkdir(parents=True)
    (folder / "crds.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: sparkapplications.sparkoperator.k8s.io}\n"
    )
    (folder / "controller.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\n"
        "metadata: {name: spark-operator-controller, namespace: spark-operator}\n"
        "spec: {template: {spec: {containers: [{name: c, image: ghcr.io/kubeflow/x:2.5.0}]}}}\n"
    )
    with pulumi_warnings() as warnings:
        recorder = install(
            SparkOperator,
            SparkOperatorArgs(
                source=MirrorSource(tmp_path), image_registry="registry.example.com/mirror"
            ),
        )
    objects = {r.inputs["kind"]: r for r in kube_objects(recorder)}
    assert set(objects) == {"Namespace", "CustomResourceDefinition", "Deployment"}
    assert objects["CustomResourceDefinition"].urn in objects["Deployment"].dependencies
    container = objects["Deployment"].inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/mirror/kubeflow/x:2.5.0"
    assert not [w for w in warnings if "spark-operator" in w]


def test_upstream_install_is_the_pinned_chart_with_its_values():
    recorder = install(
        SparkOperator,
        SparkOperatorArgs(namespace="spark", job_namespaces=["team-a", "team-b"], webhook=False),
    )
    (chart,) = recorder.of_type(CHART_TYPE)
    assert chart.inputs["repositoryOpts"] == {"repo": "https://kubeflow.github.io/spark-operator"}
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("spark-operator", "2.5.0")
    assert (chart.inputs["name"], chart.inputs["namespace"]) == ("spark-operator", "spark")
    assert chart.inputs["values"] == {
        "spark": {"jobNamespaces": ["team-a", "team-b"]},
        "webhook": {"enable": False},
    }
    (namespace,) = kube_objects(recorder)
    assert namespace.inputs == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "spark"},
    }
    assert chart.dependencies == [namespace.urn]


def test_defaults_run_jobs_of_default_and_an_older_chart_is_pinned_too():
    recorder = install(SparkOperator, SparkOperatorArgs(version="v2.4.0", create_namespace=False))
    (chart,) = recorder.of_type(CHART_TYPE)
    assert chart.inputs["version"] == "2.4.0"
    assert chart.inputs["values"]["spark"] == {"jobNamespaces": ["default"]}
    assert chart.inputs["values"]["webhook"] == {"enable": True}
    assert not kube_objects(recorder) and chart.dependencies == []


def test_outputs_name_the_namespace_and_the_job_namespaces():
    outputs = {}

    def program() -> None:
        spark = SparkOperator("spark", SparkOperatorArgs(job_namespaces=["jobs"]))
        pulumi.Output.all(spark.version, spark.namespace, spark.job_namespaces).apply(
            lambda values: outputs.update(zip(("version", "ns", "jobs"), values, strict=True))
        )

    run(program)
    assert outputs == {"version": "v2.5.0", "ns": "spark-operator", "jobs": ["jobs"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (SparkOperatorArgs(job_namespaces=[]), r"jobNamespaces = \[\] is not a list"),
        (SparkOperatorArgs(job_namespaces="default"), "jobNamespaces = 'default' is not a list"),
        (SparkOperatorArgs(job_namespaces=["Team_A"]), "entry 'Team_A' is not a valid namespace"),
        (SparkOperatorArgs(job_namespaces=[["a"]]), r"entry \['a'\] is not a valid namespace"),
        (SparkOperatorArgs(job_namespaces=["a", "a"]), "lists a namespace twice"),
        (SparkOperatorArgs(version="2.5.0"), "version '2.5.0' is not a known version"),
        (SparkOperatorArgs(webhook="false"), "webhook = 'false' is not true or false"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(args, message):
    with pytest.raises(ComponentArgsError, match=message) as error:
        install(SparkOperator, args)
    assert "fix:" in str(error.value)
