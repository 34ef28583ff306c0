"""Each policy of the pack (policy/rules): a violating object and a clean one, through the
pack's own code (`evaluate`/`evaluate_stack`, what policy/__main__.py hands the policy SDK)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policy.rules import catalog, evaluate, evaluate_stack
from policy.rules.images import image_tag
from policy.rules.secrets import SECRET_SIGNATURE, secret_inputs

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def deployment(image: str = "ghcr.io/kubeflow/app:v1.2.3", **resources: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": image}
    if resources:
        container["resources"] = resources
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "kubeflow"},
        "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [container]},
            },
        },
    }


def namespace(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml", "labels": labels}}


def webhook(failure_policy: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "katib"},
        "webhooks": [
            {
                "name": "validator.experiment.katib.kubeflow.org",
                "failurePolicy": failure_policy,
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "clientConfig": {"service": {"name": "katib", "namespace": "kubeflow"}},
            }
        ],
    }


SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "mysql-secret", "namespace": "kubeflow"},
    "stringData": {"username": "root", "password": "hunter2"},
}

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.org"},
    "spec": {
        "group": "example.org",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "note": {"type": "string", "nullable": True},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


def widget(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "example.org/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "ml"},
        "spec": spec,
    }


def messages(policy: str, type_: str, obj: dict[str, Any], **kwargs: Any) -> list[str]:
    return [v.text() for v in evaluate(policy, type_, obj, **kwargs)]


def test_every_catalog_policy_has_a_level_a_description_and_a_fix() -> None:
    for name, entry in catalog().items():
        assert entry["enforcementLevel"] in ("advisory", "mandatory"), name
        assert entry["description"] and entry["fix"], name
    assert catalog()["container-requests"]["enforcementLevel"] == "advisory"


@pytest.mark.parametrize(
    ("image", "tag", "digest"),
    [
        ("nginx", None, None),
        ("registry:5000/team/app", None, None),
        ("registry:5000/team/app:1.2", "1.2", None),
        ("ghcr.io/kubeflow/app@sha256:abc", None, "sha256:abc"),
        ("ghcr.io/kubeflow/app:v1@sha256:abc", "v1", "sha256:abc"),
    ],
)
def test_image_references_are_split_into_tag_and_digest(
    image: str, tag: str | None, digest: str | None
) -> None:
    assert image_tag(image) == (tag, digest)


@pytest.mark.parametrize("image", ["app:latest", "app:main", "app:MASTER", "app:dev", "app"])
def test_moving_or_missing_tags_violate_pinned_images(image: str) -> None:
    [text] = messages("pinned-images", DEPLOYMENT, deployment(image))
    assert "Deployment kubeflow/app: spec.template.spec.containers[0] (app)" in text
    assert "\nfix: pin the image" in text


@pytest.mark.parametrize("image", ["app:v2.2.0", "app:latest@sha256:0123", "reg:5000/app:1"])
def test_release_tags_and_digests_pass_pinned_images(image: str) -> None:
    assert messages("pinned-images", DEPLOYMENT, deployment(image)) == []


def test_pinned_images_finds_containers_of_custom_resources_and_init_containers() -> None:
    runtime = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "ClusterTrainingRuntime",
        "metadata": {"name": "torch"},
        "spec": {
            "template": {
                "spec": {
                    "replicatedJobs": [
                        {
                            "template": {
                                "spec": {
                                    "template": {
                                        "spec": {
                                            "initContainers": [{"name": "init", "image": "x:v1"}],
                                            "containers": [{"name": "lws", "image": "lws:main"}],
                                        }
                                    }
                                }
                            }
                        }
                    ]
                }
            }
        },
    }
    [text] = messages("pinned-images", "kubernetes:trainer.kubeflow.org/v1alpha1:X", runtime)
    assert "replicatedJobs[0]" in text and "'lws:main'" in text


def test_stack_config_can_name_more_moving_tags() -> None:
    config = {"movingTags": ["nightly"]}
    assert messages("pinned-images", DEPLOYMENT, deployment("app:nightly"), config=config)
    assert messages("pinned-images", DEPLOYMENT, deployment("app:latest"), config=config) == []


def test_an_exception_with_a_reason_leaves_the_object_alone() -> None:
    exception = {"kind": "Deployment", "namespace": "kubeflow", "name": "app", "reason": "test"}
    config = {"exceptions": [exception]}
    assert messages("pinned-images", DEPLOYMENT, deployment("app:latest"), config=config) == []
    other = {**exception, "namespace": "other"}
    assert messages(
        "pinned-images", DEPLOYMENT, deployment("app:latest"), config={"exceptions": [other]}
    )


def test_an_exception_without_a_reason_is_an_error_naming_the_fix() -> None:
    config = {"exceptions": [{"kind": "Deployment", "name": "app"}]}
    with pytest.raises(ValueError, match="lacks reason; fix: give kind, name"):
        evaluate("pinned-images", DEPLOYMENT, deployment("app:latest"), config=config)


def test_missing_requests_violate_container_requests() -> None:
    [text] = messages("container-requests", DEPLOYMENT, deployment(requests={"cpu": "100m"}))
    assert "(app) requests no memory" in text and "fix: set requests" in text
    [text] = messages("container-requests", DEPLOYMENT, deployment())
    assert "requests no cpu and no memory" in text


def test_cpu_and_memory_requests_pass_container_requests() -> None:
    requests = {"cpu": "100m", "memory": "128Mi"}
    assert messages("container-requests", DEPLOYMENT, deployment(requests=requests)) == []


def test_a_namespace_without_pod_security_violates() -> None:
    [text] = messages("namespace-pod-security", "kubernetes:core/v1:Namespace", namespace())
    assert "Namespace ml has no pod-security.kubernetes.io/enforce label" in text
    bad = namespace({"pod-security.kubernetes.io/enforce": "strict"})
    [text] = messages("namespace-pod-security", "kubernetes:core/v1:Namespace", bad)
    assert "'strict' is not one of privileged, baseline, restricted" in text


def test_a_labelled_namespace_and_a_namespace_patch_pass() -> None:
    ok = namespace({"pod-security.kubernetes.io/enforce": "restricted"})
    assert messages("namespace-pod-security", "kubernetes:core/v1:Namespace", ok) == []
    # Labels added to a namespace someone else creates (Katib's NamespacePatch).
    assert (
        messages("namespace-pod-security", "kubernetes:core/v1:NamespacePatch", namespace()) == []
    )


@pytest.mark.parametrize("mode", ["existing", "kind", "render"])
def test_failure_policy_ignore_violates_outside_local(mode: str) -> None:
    type_ = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
    config = {"clusterMode": mode}
    [text] = messages("webhook-failure-policy", type_, webhook("Ignore"), config=config)
    assert f"has failurePolicy Ignore on cluster mode '{mode}'" in text
    assert "'validator.experiment.katib.kubeflow.org'" in text
    assert messages("webhook-failure-policy", type_, webhook("Fail"), config=config) == []


def test_failure_policy_ignore_passes_on_local() -> None:
    type_ = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"
    hook = {**webhook("Ignore"), "kind": "MutatingWebhookConfiguration"}
    assert messages("webhook-failure-policy", type_, hook, config={"clusterMode": "local"}) == []


def test_secret_data_not_marked_secret_violates_without_showing_values() -> None:
    [text] = messages("secret-data-encrypted", "kubernetes:core/v1:Secret", SECRET)
    assert "Secret kubeflow/mysql-secret: stringData (password, username) is plain text" in text
    assert "hunter2" not in text


def test_secret_data_marked_secret_passes() -> None:
    type_ = "kubernetes:core/v1:Secret"
    assert messages("secret-data-encrypted", type_, SECRET, secret_inputs={"stringData"}) == []
    empty = {k: v for k, v in SECRET.items() if k != "stringData"}
    assert messages("secret-data-encrypted", type_, empty) == []


def test_secret_inputs_are_read_from_the_engines_wire_format() -> None:
    key, sig = SECRET_SIGNATURE
    secret = {key: sig, "value": "x"}
    wire = {
        "kind": "Secret",
        "stringData": {key: sig, "value": {"password": "x"}},
        "data": {"a": secret, "b": secret},
        "metadata": {"name": "s", "labels": {"a": secret, "b": "plain"}},
    }
    assert secret_inputs(wire) == {"stringData", "data"}


def test_an_invalid_builtin_object_violates_the_kubernetes_schema() -> None:
    bad = deployment()
    bad["spec"]["replicas"] = "two"
    [text] = messages("kubernetes-schema", DEPLOYMENT, bad)
    assert "Deployment kubeflow/app: spec.replicas: 'two' is not of type 'integer'" in text
    typo = deployment()
    typo["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    [text] = messages("kubernetes-schema", DEPLOYMENT, typo)
    assert "imagePullPolcy" in text


def test_a_valid_builtin_object_passes_and_a_removed_api_version_does_not() -> None:
    assert messages("kubernetes-schema", DEPLOYMENT, deployment()) == []
    old = {**deployment(), "apiVersion": "extensions/v1beta1"}
    [text] = messages("kubernetes-schema", "kubernetes:extensions/v1beta1:Deployment", old)
    assert "Kubernetes 1.34 serves no Deployment in extensions/v1beta1" in text
    psp = {"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "p"}}
    [text] = messages("kubernetes-schema", "kubernetes:policy/v1beta1:PodSecurityPolicy", psp)
    assert "Kubernetes 1.34 serves no PodSecurityPolicy in policy/v1beta1" in text
    assert messages(
        "kubernetes-schema",
        "kubernetes:policy/v1beta1:PodSecurityPolicy",
        psp,
        config={"kubernetesVersion": "1.25"},
    )


def test_an_unknown_kubernetes_version_is_an_error_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="set policy:kubernetesVersion"):
        evaluate(
            "kubernetes-schema", DEPLOYMENT, deployment(), config={"kubernetesVersion": "1.99"}
        )


def stack(*objects: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        type_ = f"kubernetes:{group or 'core'}/{version}:{obj['kind']}"
        out.append((f"urn:pulumi:ci::kubeflow::{type_}::{obj['metadata']['name']}", type_, obj))
    return out


def test_a_custom_resource_against_its_crds_schema() -> None:
    bad = widget({"size": 0, "note": None})
    [(urn, violation)] = evaluate_stack("custom-resource-schema", stack(CRD, bad))
    assert urn.endswith("::w")
    assert "Widget ml/w: spec.size: 0 is less than the minimum of 1" in violation.text()
    [(_, missing)] = evaluate_stack("custom-resource-schema", stack(CRD, widget({})))
    assert "'size' is a required property" in missing.message


def test_a_valid_custom_resource_and_one_without_its_crd_pass() -> None:
    ok = widget({"size": 2, "note": None})
    assert evaluate_stack("custom-resource-schema", stack(CRD, ok)) == []
    assert evaluate_stack("custom-resource-schema", stack(widget({"size": "x"}))) == []


def test_policies_ignore_what_is_not_a_kubernetes_object() -> None:
    props = {"kind": "x", "apiVersion": "v1", "spec": {"containers": [{"image": "a"}]}}
    assert evaluate("pinned-images", "pulumi:providers:kubernetes", props) == []
    assert evaluate("pinned-images", "kubernetes:yaml/v2:ConfigGroup", props) == []
    assert evaluate("pinned-images", "kubernetes:kustomize/v2:Directory", props) == []
    assert evaluate("pinned-images", DEPLOYMENT, {"spec": {}}) == []


def test_rules_do_not_change_the_objects_they_read() -> None:
    obj = deployment("app:latest")
    before = copy.deepcopy(obj)
    for policy in ("pinned-images", "container-requests", "kubernetes-schema"):
        evaluate(policy, DEPLOYMENT, obj)
    assert obj == before


def test_whole_numbers_from_the_engines_wire_format_count_as_integers() -> None:
    # protobuf Struct carries every number as a float: `size: 2` arrives as 2.0.
    assert evaluate_stack("custom-resource-schema", stack(CRD, widget({"size": 2.0}))) == []
    [(_, violation)] = evaluate_stack("custom-resource-schema", stack(CRD, widget({"size": 2.5})))
    assert "2.5 is not of type 'integer'" in violation.message


def test_the_shipped_exceptions_name_known_policies_and_each_give_a_reason() -> None:
    from policy.rules.model import shipped_exceptions

    exceptions = shipped_exceptions()
    assert set(exceptions) <= set(catalog())
    assert all(e.reason for entries in exceptions.values() for e in entries)
