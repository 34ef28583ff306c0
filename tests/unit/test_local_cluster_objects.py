"""What the local cluster does to the objects it is given (no cluster): admission webhooks
that cannot answer fail open, and CRD conversion webhooks become no conversion, with each
older version's schema declaring the stored version's fields."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.manifests import KubeObject, load_objects
from infra import local_cluster as lc
from infra.local_conversion import union_schema
from tests.paths import MIRROR
from tests.unit.mocks import run_stack


def _webhook_config(kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": "kfp"},
        "webhooks": [
            {"name": "a.kubeflow.org", "failurePolicy": "Fail", "timeoutSeconds": 30},
            {"name": "b.kubeflow.org"},
        ],
    }


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
def test_ignore_webhook_failures_sets_ignore_and_short_timeout(kind: str) -> None:
    obj = _webhook_config(kind)
    before = copy.deepcopy(obj)
    out = lc.ignore_webhook_failures(obj)
    assert obj == before, "input must not be modified"
    assert [w["failurePolicy"] for w in out["webhooks"]] == ["Ignore", "Ignore"]
    assert [w["timeoutSeconds"] for w in out["webhooks"]] == [lc.WEBHOOK_TIMEOUT_SECONDS] * 2
    assert [w["name"] for w in out["webhooks"]] == ["a.kubeflow.org", "b.kubeflow.org"]


def test_ignore_webhook_failures_leaves_other_objects_alone() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    assert lc.ignore_webhook_failures(deployment) is deployment
    other = {**_webhook_config("MutatingWebhookConfiguration"), "apiVersion": "example.com/v1"}
    assert lc.ignore_webhook_failures(other) is other


def test_a_crd_conversion_webhook_becomes_no_conversion_on_the_simulated_cluster() -> None:
    webhook = {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"]}}
    old_schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    new_schema = {"type": "object", "properties": {"b": {"type": "integer"}}}
    old = {"name": "v1alpha1", "storage": False, "schema": {"openAPIV3Schema": old_schema}}
    stored = {"name": "v1alpha2", "storage": True, "schema": {"openAPIV3Schema": new_schema}}
    crd: KubeObject = {
        "kind": "CustomResourceDefinition",
        "spec": {"group": "x", "conversion": webhook, "versions": [old, stored]},
    }
    union = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    assert lc.ignore_webhook_failures(crd)["spec"] == {
        "group": "x",
        "conversion": {"strategy": "None"},
        # an object converted to the older version keeps the fields only v1alpha2 declares
        "versions": [{**old, "schema": {"openAPIV3Schema": union}}, stored],
    }
    assert crd["spec"]["conversion"] is webhook  # the input is not modified
    assert crd["spec"]["versions"][0]["schema"] == {"openAPIV3Schema": old_schema}
    plain = {"kind": "CustomResourceDefinition", "spec": {"group": "x"}}
    assert lc.ignore_webhook_failures(plain) is plain


def test_kserves_older_llm_config_version_declares_the_stored_fields_and_keeps_its_list_keys() -> (
    None
):
    """KServe v0.18.0 serves LLMInferenceServiceConfig at v1alpha1 and stores v1alpha2: on the
    simulated cluster v1alpha1 takes every v1alpha2 field, and a list of both keeps its map
    keys (server-side apply tracks each item a manager owns by them)."""
    (crd,) = [
        o
        for o in load_objects(MIRROR / "kserve" / "v0.18.0" / "kserve.crds-llmisvc-configs.yaml")
        if o["metadata"]["name"] == "llminferenceserviceconfigs.serving.kserve.io"
    ]
    versions = {v["name"]: v for v in lc.ignore_webhook_failures(crd)["spec"]["versions"]}
    upstream = {v["name"]: v for v in crd["spec"]["versions"]}
    assert versions["v1alpha2"] == upstream["v1alpha2"]

    def paths(schema: dict[str, Any], at: str = "") -> set[str]:
        found = {at}
        for name, child in (schema.get("properties") or {}).items():
            found |= paths(child, f"{at}.{name}")
        if isinstance(schema.get("items"), dict):
            found |= paths(schema["items"], f"{at}[]")
        return found

    def schema(version: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = version["schema"]["openAPIV3Schema"]
        return found

    converting = schema(versions["v1alpha1"])
    assert paths(schema(upstream["v1alpha2"])) <= paths(converting)
    assert paths(schema(upstream["v1alpha1"])) <= paths(converting)
    mounts = converting["properties"]["spec"]["properties"]["router"]["properties"]["scheduler"]
    mounts = mounts["properties"]["template"]["properties"]["containers"]["items"]
    mounts = mounts["properties"]["volumeMounts"]
    assert mounts["x-kubernetes-list-type"] == "map"
    assert mounts["x-kubernetes-list-map-keys"] == ["mountPath"]
    assert mounts["items"]["required"] == ["mountPath", "name"]  # a map key must be required


def test_where_the_versions_disagree_on_a_field_the_stored_versions_node_is_taken() -> None:
    own = {"type": "object", "properties": {"port": {"type": "string", "enum": ["a"]}}}
    stored = {"type": "object", "properties": {"port": {"type": "integer"}}}
    assert union_schema(own, stored) == stored
    fields = {"type": "object", "properties": {"matchLabels": {"type": "object"}}}
    labels = {"type": "object", "additionalProperties": {"type": "string"}}
    assert union_schema(labels, fields) == fields  # a schema cannot be both
    assert union_schema(fields, labels) == labels


@pytest.mark.usefixtures("kube_bin")
def test_the_local_stacks_webhooks_fail_open() -> None:
    """Through the `local` stack's program (the webhooks of cert-manager, KFP and KServe,
    which nothing simulated can serve): every admission webhook is Ignore, with the short
    timeout."""
    recorder = run_stack("local", {"kubeflow:components": ["cert-manager", "pipelines", "kserve"]})
    objects = [r.inputs for r in recorder.registered if r.type.startswith("kubernetes:")]
    webhooks = [w for o in objects if o["kind"] in lc._WEBHOOK_KINDS for w in o["webhooks"]]
    assert len(webhooks) > 5
    assert {(w.get("failurePolicy"), w.get("timeoutSeconds")) for w in webhooks} == {
        ("Ignore", lc.WEBHOOK_TIMEOUT_SECONDS)
    }
