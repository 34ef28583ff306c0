"""Transforms, run as functions on the real KFP 2.15.0 render."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.transforms import (
    add_labels,
    containers,
    rehome_image,
    rewrite_images,
    set_namespace,
    set_replicas,
    set_resources,
)
from tests import paths

REGISTRY = "registry.example.com:5000/mirror"


@pytest.fixture(scope="module")
def kfp_objects() -> list[dict[str, Any]]:
    return paths.kfp_objects()


def strip_images(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with every image-bearing field blanked, to compare the rest."""
    obj = copy.deepcopy(obj)
    for container in containers(obj):
        container.pop("image", None)
        args = container.get("args") or []
        for i in range(1, len(args)):
            if args[i - 1].endswith("-image"):
                args[i] = "<image>"
        for env in container.get("env") or []:
            if env["name"].endswith("_IMAGE"):
                env.pop("value", None)
    return obj


def test_every_image_moves_to_the_registry_and_nothing_else_changes(
    kfp_objects: list[dict[str, Any]],
) -> None:
    moved = [rewrite_images(REGISTRY)(o) for o in kfp_objects]
    images = [c["image"] for o in moved for c in containers(o)]
    assert len(images) >= 14
    assert all(image.startswith(REGISTRY + "/") for image in images)
    assert f"{REGISTRY}/kubeflow/kfp-api-server:2.15.0" in images
    assert [strip_images(o) for o in moved] == [strip_images(o) for o in kfp_objects]


def test_images_outside_image_fields_move_too(kfp_objects: list[dict[str, Any]]) -> None:
    moved = {o["metadata"]["name"]: o for o in map(rewrite_images(REGISTRY), kfp_objects)}
    api_env = {e["name"]: e.get("value") for e in next(containers(moved["ml-pipeline"]))["env"]}
    assert api_env["V2_DRIVER_IMAGE"] == f"{REGISTRY}/kubeflow/kfp-driver:2.15.0"
    argo_args = next(containers(moved["workflow-controller"]))["args"]
    assert argo_args[argo_args.index("--executor-image") + 1] == (
        f"{REGISTRY}/argoproj/argoexec:v3.7.3"
    )


def test_transforms_do_not_mutate_their_input(kfp_objects: list[dict[str, Any]]) -> None:
    before = json.dumps(kfp_objects, sort_keys=True)
    for transform in (
        rewrite_images(REGISTRY),
        add_labels({"a": "b"}),
        set_namespace("kubeflow", "ml"),
    ):
        [transform(o) for o in kfp_objects]
    assert json.dumps(kfp_objects, sort_keys=True) == before


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ghcr.io/kubeflow/kfp-frontend:2.15.0", "r.io/m/kubeflow/kfp-frontend:2.15.0"),
        ("mysql:8.0.26", "r.io/m/library/mysql:8.0.26"),
        ("chrislusf/seaweedfs:4.00", "r.io/m/chrislusf/seaweedfs:4.00"),
        ("localhost:5000/x/y@sha256:abc", "r.io/m/x/y@sha256:abc"),
    ],
)
def test_rehome_image_keeps_repository_path_and_tag(image: str, expected: str) -> None:
    assert rehome_image(image, "r.io/m") == expected


def test_labels_are_added_to_every_object_and_keep_upstream_labels(
    kfp_objects: list[dict[str, Any]],
) -> None:
    labelled = [add_labels({"team": "ml"})(o) for o in kfp_objects]
    assert len(labelled) == len(kfp_objects) > 80
    assert all(o["metadata"]["labels"]["team"] == "ml" for o in labelled)
    api = next(o for o in labelled if o["metadata"]["name"] == "ml-pipeline")
    assert api["metadata"]["labels"]["application-crd-id"] == "kubeflow-pipelines"


def test_replicas_and_resources_change_only_the_named_workloads(
    kfp_objects: list[dict[str, Any]],
) -> None:
    requirements = {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}
    changed = [
        set_resources({"ml-pipeline": requirements})(set_replicas({"ml-pipeline": 3})(o))
        for o in kfp_objects
    ]
    diffs = [
        (a["kind"], a["metadata"]["name"])
        for a, b in zip(changed, kfp_objects, strict=True)
        if a != b
    ]
    assert diffs == [("Deployment", "ml-pipeline")]
    api = next(
        o for o in changed if o["metadata"]["name"] == "ml-pipeline" and o["kind"] == "Deployment"
    )
    assert api["spec"]["replicas"] == 3
    assert next(containers(api))["resources"] == requirements


def test_namespace_moves_objects_bindings_and_dns_names(kfp_objects: list[dict[str, Any]]) -> None:
    moved = [set_namespace("kubeflow", "ml-platform")(o) for o in kfp_objects]
    text = json.dumps(moved)
    assert '"namespace": "kubeflow"' not in text
    assert "minio-service.kubeflow" not in text
    assert "minio-service.ml-platform:9000" in text
    # API groups that merely contain the old name are left alone.
    assert "pipelines.kubeflow.org" in text
    namespaces = [o for o in moved if o["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == ["ml-platform"]
    subjects = [s for o in moved for s in o.get("subjects") or []]
    assert subjects and all(s.get("namespace") in (None, "ml-platform") for s in subjects)
