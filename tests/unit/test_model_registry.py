"""ModelRegistry under Pulumi mocks: upstream sets no namespace, the component does."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc

from components import MirrorSource, ModelRegistry, ModelRegistryArgs
from components.manifests import KubeObject, load_objects
from components.model_registry import REST_PORT, REST_SERVICE
from components.objects import namespace_object
from components.render import Reference
from tests.paths import MIRROR
from tests.unit.component_helpers import (
    as_installed,
    build,
    identities,
    install,
    kube_objects,
    refused,
    registered,
    resolved,
    rollout_wait,
    wait_for_annotations,
)
from tests.unit.mocks import Recorder

REGISTRY = MIRROR / "model-registry" / "v0.3.7"


def in_namespace(objects: list[KubeObject], namespace: str) -> list[KubeObject]:
    return [{**o, "metadata": {**o["metadata"], "namespace": namespace}} for o in objects]


COMPONENT = ModelRegistry


def test_mirror_install_puts_every_mysql_object_into_kubeflow(mirrored: Recorder) -> None:
    """Installed alone, it creates its namespace too (in a stack with KFP, KFP does)."""
    expected = identities(in_namespace(load_objects(REGISTRY / "db.yaml"), "kubeflow"))
    assert sum(expected.values()) == 9
    expected[("Namespace", "", "kubeflow")] = 1
    assert identities([r.inputs for r in kube_objects(mirrored)]) == expected


def test_the_rest_endpoint_output_is_the_service_in_the_manifests(mirrored: Recorder) -> None:
    service = registered(mirrored, "Service", REST_SERVICE).inputs
    assert [p["port"] for p in service["spec"]["ports"]] == [REST_PORT]
    outputs = resolved(lambda: {"rest": ModelRegistry("mr", ModelRegistryArgs()).rest_endpoint})
    assert outputs == {"rest": "model-registry-service.kubeflow.svc:8080"}


def test_postgres_is_the_postgres_overlay_moved_into_the_namespace() -> None:
    registry = build(ModelRegistry, ModelRegistryArgs(database="postgres", namespace="ml"))
    (part,) = registry.manifest_parts(MirrorSource(MIRROR))
    assert part.mirror_file == "postgres.yaml"
    objects = as_installed(registry, load_objects(REGISTRY / part.mirror_file))
    assert identities(objects) == identities(
        in_namespace(load_objects(REGISTRY / "postgres.yaml"), "ml")
    )
    (db,) = [
        o
        for o in objects
        if o["metadata"]["name"] == "model-registry-db" and o["kind"] == "Deployment"
    ]
    assert db["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:16-alpine"


def test_upstream_install_renders_the_pinned_overlay_of_the_database(
    rendered: list[Reference],
) -> None:
    for database, overlay in (("mysql", "db"), ("postgres", "postgres")):
        rendered.clear()
        recorder = install(ModelRegistry, ModelRegistryArgs(database=database))
        assert [r.location for r in rendered] == [
            "https://github.com/kubeflow/model-registry/manifests/kustomize/overlays/"
            f"{overlay}?ref=v0.3.7"
        ]
        objects = [r.inputs for r in kube_objects(recorder)]
        expected = in_namespace(load_objects(REGISTRY / f"{overlay}.yaml"), "kubeflow")
        assert identities(objects) == identities([namespace_object("kubeflow"), *expected])


def test_upstream_install_waits_for_the_namespace_it_creates() -> None:
    recorder = install(ModelRegistry, ModelRegistryArgs(namespace="ml", create_namespace=True))
    namespace, *objects = kube_objects(recorder)
    assert (namespace.inputs["kind"], namespace.inputs["metadata"]["name"]) == ("Namespace", "ml")
    assert objects and all(namespace.urn in recorder.waits_for(o) for o in objects)


def test_settings_reach_the_objects() -> None:
    registry = build(
        ModelRegistry,
        ModelRegistryArgs(
            image_registry="registry.example.com",
            labels={"team": "ml"},
            resources={"model-registry-deployment": {"requests": {"memory": "256Mi"}}},
        ),
    )
    objects = as_installed(registry, load_objects(REGISTRY / "db.yaml"))
    images = {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]
        for o in objects
        if o["kind"] == "Deployment"
    }
    assert images["model-registry-deployment"]["image"] == (
        "registry.example.com/kubeflow/model-registry/server:v0.3.7"
    )
    assert images["model-registry-deployment"]["resources"] == {"requests": {"memory": "256Mi"}}
    assert images["model-registry-db"]["image"] == "registry.example.com/library/mysql:8.3"
    assert all(o["metadata"]["labels"]["team"] == "ml" for o in objects)


def test_the_db_credentials_are_registered_as_a_secret(mirrored: Recorder) -> None:
    data = registered(mirrored, "Secret", "model-registry-db-secrets").inputs["data"]
    assert data[rpc._special_sig_key] == rpc._special_secret_sig
    assert set(data["value"]) == {"MYSQL_ROOT_PASSWORD", "MYSQL_USER_NAME"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (ModelRegistryArgs(database="sqlite"), "database 'sqlite' is not supported; fix: use"),
        (
            ModelRegistryArgs(database=["mysql"]),  # type: ignore[arg-type]  # bad on purpose
            r"database \['mysql'\] is not supported",
        ),
        (
            ModelRegistryArgs(create_namespace="yes"),  # type: ignore[arg-type]  # bad on purpose
            "createNamespace = 'yes' must be true or false",
        ),
        (ModelRegistryArgs(version="v0.2.0"), "version 'v0.2.0' is not a known version"),
        (ModelRegistryArgs(namespace="ML"), "not a valid Kubernetes namespace"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(args: ModelRegistryArgs, message: str) -> None:
    refused(ModelRegistry, args, message)


def test_its_database_waits_for_its_rollout(mirrored: Recorder) -> None:
    """Its database Deployment, rolled out by Recreate, waits as components/awaits.py says."""
    waits = {name: json.loads(w) for name, w in wait_for_annotations(mirrored).items()}
    assert waits == {"model-registry-db": rollout_wait(1)}
