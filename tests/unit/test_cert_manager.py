"""CertManager under Pulumi mocks: the release objects, then the Kubeflow ClusterIssuer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components import CertManager, CertManagerArgs
from components.manifests import KubeObject
from components.render import Reference
from infra.config import ConfigError
from tests.unit.component_helpers import (
    FLAG,
    identities,
    install,
    kube_objects,
    refused,
    registered,
    resolved,
)
from tests.unit.mirror_helpers import (
    any_of,
    mirror_objects,
    named,
    order_problems,
    small_mirror,
)
from tests.unit.mocks import Recorder, run_stack

VERSION = "v1.19.4"
RELEASE_URL = (
    "https://github.com/cert-manager/cert-manager/releases/download/v1.19.4/cert-manager.yaml"
)


def release_objects() -> list[KubeObject]:
    return mirror_objects("cert-manager", VERSION, "cert-manager.yaml")


COMPONENT = CertManager


def test_mirror_install_registers_the_release_and_the_kubeflow_issuer(mirrored: Recorder) -> None:
    expected = identities(release_objects())
    expected[("ClusterIssuer", "", "kubeflow-self-signing-issuer")] += 1
    assert identities([r.inputs for r in kube_objects(mirrored)]) == expected
    assert sum(expected.values()) == 50


def test_the_issuer_is_the_one_kubeflow_manifests_adds(mirrored: Recorder) -> None:
    overlay = mirror_objects("cert-manager", VERSION, "cert-manager-kubeflow-overlay.yaml")
    (upstream,) = [o for o in overlay if o["kind"] == "ClusterIssuer"]
    issuer = registered(mirrored, "ClusterIssuer", "kubeflow-self-signing-issuer").inputs
    assert (issuer["apiVersion"], issuer["metadata"]["name"], issuer["spec"]) == (
        upstream["apiVersion"],
        upstream["metadata"]["name"],
        upstream["spec"],
    )


def test_webhook_serves_before_its_configurations_and_the_issuer(mirrored: Recorder) -> None:
    assert order_problems(mirrored, "cert-manager", ["cert-manager", "final"]) == []
    webhook = registered(mirrored, "Deployment", "cert-manager-webhook")
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert webhook.urn in mirrored.waits_for(registered(mirrored, kind, "cert-manager-webhook"))
    issuer = registered(mirrored, "ClusterIssuer", "kubeflow-self-signing-issuer")
    assert webhook.urn in mirrored.waits_for(issuer)


def test_upstream_install_applies_the_release_file_then_the_issuer(
    rendered: list[Reference],
) -> None:
    recorder = install(CertManager, CertManagerArgs(), "cert-manager")
    assert [r.location for r in rendered] == [RELEASE_URL]
    *release, issuer = kube_objects(recorder)
    assert identities([r.inputs for r in release]) == identities(release_objects())
    assert issuer.inputs["kind"] == "ClusterIssuer"
    webhook = registered(recorder, "Deployment", "cert-manager-webhook")
    assert webhook.urn in recorder.waits_for(issuer)


def test_issuer_setting_off_installs_cert_manager_alone() -> None:
    recorder = install(CertManager, CertManagerArgs(kubeflow_issuer=False), "cert-manager")
    installed = identities([r.inputs for r in kube_objects(recorder)])
    assert installed == identities(release_objects())


def test_namespace_setting_moves_the_objects_and_the_ca_references(tmp_path: Path) -> None:
    mirror = small_mirror(
        tmp_path,
        "cert-manager",
        VERSION,
        ("cert-manager.yaml",),
        any_of(
            named("Namespace"),
            named("Deployment", "cert-manager-webhook"),
            named("ValidatingWebhookConfiguration"),
            named("Role", "cert-manager:leaderelection"),
        ),
    )
    recorder = install(CertManager, CertManagerArgs(namespace="certs", source=mirror), "cm")
    objects = {
        (r.inputs["kind"], r.inputs["metadata"]["name"]): r.inputs for r in kube_objects(recorder)
    }
    assert ("Namespace", "certs") in objects
    assert objects[("Deployment", "cert-manager-webhook")]["metadata"]["namespace"] == "certs"
    webhook = objects[("ValidatingWebhookConfiguration", "cert-manager-webhook")]
    assert webhook["webhooks"][0]["clientConfig"]["service"]["namespace"] == "certs"
    annotations = webhook["metadata"]["annotations"]
    assert annotations["cert-manager.io/inject-ca-from-secret"] == "certs/cert-manager-webhook-ca"
    # leader election stays in kube-system, as upstream has it
    assert (
        objects[("Role", "cert-manager:leaderelection")]["metadata"]["namespace"] == "kube-system"
    )


def test_outputs_name_the_issuer() -> None:
    def outputs() -> dict[str, Any]:
        on = CertManager("on", CertManagerArgs())
        off = CertManager("off", CertManagerArgs(kubeflow_issuer=False, namespace="certs"))
        return {"on": on.cluster_issuer, "off": off.cluster_issuer, "ns": off.namespace}

    assert resolved(outputs) == {"on": "kubeflow-self-signing-issuer", "off": None, "ns": "certs"}


def test_issuer_setting_must_be_a_boolean() -> None:
    args = CertManagerArgs(kubeflow_issuer="false")  # type: ignore[arg-type]  # bad on purpose
    refused(CertManager, args, f"kubeflowIssuer = 'false' {FLAG}")


def test_a_bad_stack_setting_is_reported_before_any_resource() -> None:
    with pytest.raises(ConfigError, match=r"kubeflow:cert-manager: cert-manager: kubeflowIssuer"):
        run_stack(
            "ci",
            {
                "kubeflow:components": ["cert-manager"],
                "kubeflow:cert-manager": {"kubeflowIssuer": "yes"},
            },
        )
