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
                "type": "kubernetes:apps/v1:Deployment",
                "outputs": {"kind": "Deployment", "metadata": {"name": "ml-pipeline"}},
            },
        ]
    }
}


def test_only_retained_objects_are_listed() -> None:
    assert kept_objects(STATE) == [
        ("CustomResourceDefinition", "", "inferenceservices.serving.kserve.io"),
        ("PersistentVolumeClaim", "kubeflow", "mysql-pv-claim"),
    ]


def test_the_report_names_each_object_and_its_kubectl_delete(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(io.StringIO(json.dumps(STATE)))
    out = capsys.readouterr().out
    assert "destroy leaves 2 objects in the cluster that hold data (keepData)" in out
    assert "PersistentVolumeClaim kubeflow/mysql-pv-claim" in out
    assert "kubectl delete persistentvolumeclaim mysql-pv-claim -n kubeflow" in out
    assert "kubectl delete customresourcedefinition inferenceservices.serving.kserve.io" in out


def test_nothing_kept_says_nothing() -> None:
    assert report([]) == ""
    assert kept_objects({"deployment": {}}) == []
