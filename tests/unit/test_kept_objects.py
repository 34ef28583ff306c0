"""destroy says what it leaves behind, and how to remove it."""

from __future__ import annotations

import io
import json

import pytest

from infra.kept_objects import kept_objects, main, report

STATE = {
    "deployment": {
        "resources": [
            {"type": "pulumi:pulumi:Stack", "urn": "s"},
            {
                "type": "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
                "retainOnDelete": True,
                "outputs": {
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": "inferenceservices.serving.kserve.io"},
                },
            },
            {
                "type": "kubernetes:core/v1:PersistentVolumeClaim",
                "retainOnDelete": True,
                "outputs": {
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "mysql-pv-claim", "namespace": "kubeflow"},
                },
            },
            {
                "type": "pulumi-python:dynamic:Resource",
                "urn": "urn:pulumi:dev::kubeflow::pulumi-python:dynamic:Resource::kind",
                "retainOnDelete": True,
                "outputs": {
                    "name": "kfp-dev",
                    "kubeconfig": {"4dabf18193072939515e22adb298388d": 1},
                },
            },
            {
                "type": "pulumi-python:dynamic/kubeflow:LocalCluster",
                "urn": "urn:pulumi:local::kubeflow::pulumi:pulumi:Stack$"
                "pulumi-python:dynamic/kubeflow:LocalCluster::local",
                "retainOnDelete": True,
                "outputs": {"state_dir": "/work/build/local-cluster/local", "running": True},
            },
            {
                "type": "kubernetes:apps/v1:Deployment",
                "outputs": {"kind": "Deployment", "metadata": {"name": "ml-pipeline"}},
            },
        ]
    }
}


def test_only_retained_objects_are_listed() -> None:
    assert kept_objects(STATE) == [
        ("CustomResourceDefinition", "", "inferenceservices.serving.kserve.io"),
        ("KindCluster", "", "kfp-dev"),
        ("LocalCluster", "", "/work/build/local-cluster/local"),
        ("PersistentVolumeClaim", "kubeflow", "mysql-pv-claim"),
    ]


def test_the_report_names_each_object_and_its_kubectl_delete(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(io.StringIO(json.dumps(STATE)))
    out = capsys.readouterr().out
    assert "destroy leaves 4 objects that hold data (keepData)" in out
    assert "KindCluster kfp-dev" in out
    assert "kind delete cluster --name kfp-dev" in out
    assert "LocalCluster /work/build/local-cluster/local" in out
    assert (
        ".venv/bin/python -m infra.local_cluster_resource stop /work/build/local-cluster/local"
        in out
    )
    assert "PersistentVolumeClaim kubeflow/mysql-pv-claim" in out
    assert "kubectl delete persistentvolumeclaim mysql-pv-claim -n kubeflow" in out
    assert "kubectl delete customresourcedefinition inferenceservices.serving.kserve.io" in out


def test_nothing_kept_says_nothing() -> None:
    assert report([]) == ""
    assert kept_objects({"deployment": {}}) == []
