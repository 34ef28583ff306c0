"""How long objects live and who owns which fields: resource names that survive a move
between files, data kept when it leaves the stack, fields left to the cluster's controllers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import KubeflowPipelines, MirrorSource, PipelinesArgs
from components.awaits import DELETION_PROPAGATION
from components.objects import (
    child_urn,
    other_version_types,
    served_versions,
    split_urn,
    urn_type,
)
from components.transforms import with_annotation
from tests.unit.component_helpers import install, kube_objects, registered, resolved
from tests.unit.mocks import Recorder

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: kubeflow}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Thing, plural: things}
  conversion:
    strategy: Webhook
    webhook: {clientConfig: {service: {name: svc, namespace: kubeflow}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: mysql-pv-claim, namespace: kubeflow}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 20Gi}}}
---
apiVersion: v1
kind: Secret
metadata: {name: webhook-cert, namespace: kubeflow}
---
apiVersion: v1
kind: Secret
metadata: {name: mysql-secret, namespace: kubeflow}
stringData: {username: root}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: aggregated}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate: "true"}}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: plain}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: validator}
webhooks:
  - name: v.example.com
    clientConfig: {service: {name: svc, namespace: kubeflow}}
    admissionReviewVersions: [v1]
    sideEffects: None
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ml-pipeline, namespace: kubeflow}
spec: {template: {spec: {containers: [{name: api, image: ghcr.io/kubeflow/x:2.15.0}]}}}
---
apiVersion: example.com/v1
kind: Thing
metadata: {name: default-thing, namespace: kubeflow}
---
apiVersion: example.com/v1
kind: Job
metadata: {name: custom-job, namespace: kubeflow}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: elsewhere, namespace: kube-system}
"""


def _mirror(root: Path) -> MirrorSource:
    folder = root / "kfp" / "2.15.0"
    folder.mkdir(parents=True)
    (folder / "cluster-scoped.yaml").write_text("")
    (folder / "platform-agnostic.yaml").write_text(OBJECTS)
    return MirrorSource(root)


@pytest.fixture
def kept(tmp_path: Path) -> Recorder:
    return install(KubeflowPipelines, PipelinesArgs(source=_mirror(tmp_path)), "kfp")


def test_resource_names_are_the_component_and_the_object_with_the_old_name_as_alias(
    kept: Recorder,
) -> None:
    deployment = registered(kept, "Deployment", "ml-pipeline")
    assert deployment.name == "kfp:kubeflow/ml-pipeline"
    # stacks made when names carried the part keep their objects (no delete + create)
    assert deployment.aliases[0] == "kfp-platform-agnostic:kubeflow/ml-pipeline"
    # and by any other part name of the component, should an upgrade have moved it
    assert set(deployment.aliases) == {
        f"kfp-{part}:kubeflow/ml-pipeline"
        for part in ("platform-agnostic", "cluster-scoped", "own", "final")
    }
    assert registered(kept, "ClusterRole", "plain").name == "kfp:plain"
    # each alias is the URN the old name had under the same component, at the same type
    (component,) = kept.of_type(KubeflowPipelines.TYPE)
    under = component.urn.rpartition("::")[0]
    assert deployment.alias_urns == [
        f"{under}$kubernetes:apps/v1:Deployment::{name}" for name in deployment.aliases
    ]


def test_a_child_urn_follows_its_parents_types_whatever_the_parents_name() -> None:
    parent = "urn:pulumi:dev::kubeflow::kubeflow:platform:KubeflowPlatform$kubeflow:c:C::a::b"
    urn = resolved(lambda: {"urn": child_urn(pulumi.Output.from_input(parent), "k:v:T", "n")})
    assert urn == {
        "urn": "urn:pulumi:dev::kubeflow::kubeflow:platform:KubeflowPlatform$kubeflow:c:C$k:v:T::n"
    }
    types = "kubeflow:platform:KubeflowPlatform$kubeflow:c:C"
    assert split_urn(parent) == ("urn:pulumi:dev::kubeflow", types, "a::b")
    assert urn_type(parent) == "kubeflow:c:C"


def test_objects_that_hold_data_are_kept_by_default_and_only_they(kept: Recorder) -> None:
    retained = sorted(
        (r.inputs["kind"], r.inputs["metadata"]["name"])
        for r in kube_objects(kept)
        if r.retain_on_delete
    )
    assert retained == [
        ("CustomResourceDefinition", "things.example.com"),
        ("Namespace", "kubeflow"),
        ("PersistentVolumeClaim", "mysql-pv-claim"),
    ]


def test_keep_data_false_lets_them_go(tmp_path: Path) -> None:
    args = PipelinesArgs(source=_mirror(tmp_path), keep_data=False)
    recorder = install(KubeflowPipelines, args, "kfp")
    assert not [r.name for r in kube_objects(recorder) if r.retain_on_delete]


def test_a_kept_namespace_takes_nothing_with_it(kept: Recorder) -> None:
    """Its objects are deleted one by one (destroy, removing the component): not orphaned."""
    assert not [r.name for r in kube_objects(kept) if r.deleted_with]


def test_a_namespace_that_goes_takes_its_built_in_objects_with_it(tmp_path: Path) -> None:
    args = PipelinesArgs(source=_mirror(tmp_path), keep_data=False)
    recorder = install(KubeflowPipelines, args, "kfp")
    namespace = registered(recorder, "Namespace", "kubeflow")
    went_with = sorted(
        (r.inputs["kind"], r.inputs["metadata"]["name"])
        for r in kube_objects(recorder)
        if r.deleted_with == namespace.urn
    )
    assert went_with == [
        ("Deployment", "ml-pipeline"),
        ("PersistentVolumeClaim", "mysql-pv-claim"),
        ("Secret", "mysql-secret"),
        ("Secret", "webhook-cert"),
    ]
    # a custom resource (its controller may hold a finalizer), cluster-scoped objects and
    # objects in a namespace the stack does not delete are each deleted on their own
    assert not {r.deleted_with for r in kube_objects(recorder)} - {"", namespace.urn}


def delete_policies(recorder: Recorder) -> dict[tuple[str, str], str | None]:
    """Each object's `pulumi.com/deletionPropagationPolicy` (None: the provider's foreground)."""
    return {
        (r.inputs["kind"], r.inputs["metadata"]["name"]): (
            r.inputs["metadata"].get("annotations") or {}
        ).get(DELETION_PROPAGATION)
        for r in kube_objects(recorder)
    }


def test_destroy_deletes_all_but_the_workloads_in_the_background(kept: Recorder) -> None:
    """Only a workload's delete waits on the garbage collector (until its pods are gone)."""
    policies = delete_policies(kept)
    assert policies.pop(("Deployment", "ml-pipeline")) is None
    # a custom resource whose kind is named like a workload's too (only its group tells)
    assert ("Job", "custom-job") in policies
    assert len(policies) == 11 and set(policies.values()) == {"background"}


def test_a_delete_policy_a_user_sets_is_kept(tmp_path: Path) -> None:
    def foreground(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] != "ConfigMap":
            return obj
        return with_annotation(obj, DELETION_PROPAGATION, "foreground")

    args = PipelinesArgs(source=_mirror(tmp_path), transforms=[foreground])
    policies = delete_policies(install(KubeflowPipelines, args, "kfp"))
    assert policies.pop(("ConfigMap", "elsewhere")) == "foreground"
    assert set(policies.values()) == {"background", None}


@pytest.mark.parametrize(
    ("kind", "name", "fields"),
    [
        ("Secret", "webhook-cert", ["data", "stringData"]),
        ("Secret", "mysql-secret", []),
        ("ClusterRole", "aggregated", ["rules"]),
        ("ClusterRole", "plain", []),
        ("ValidatingWebhookConfiguration", "validator", []),  # server-side apply leaves caBundle
        ("CustomResourceDefinition", "things.example.com", []),
        ("Deployment", "ml-pipeline", []),
    ],
)
def test_fields_a_controller_fills_are_left_to_it(
    kept: Recorder, kind: str, name: str, fields: list[str]
) -> None:
    assert registered(kept, kind, name).ignore_changes == fields


def test_a_custom_resource_is_aliased_to_its_other_served_versions_only() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Thing"},
            "versions": [
                {"name": "v1alpha1", "served": False},
                {"name": "v1beta1", "served": True},
                {"name": "v1", "served": True},
            ],
        },
    }
    thing = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}}
    served = served_versions([crd])
    assert other_version_types(thing, served) == ["kubernetes:example.com/v1beta1:Thing"]
    other = {"apiVersion": "example.org/v1", "kind": "Thing", "metadata": {"name": "t"}}
    assert other_version_types(other, served) == []  # another group's kind of the same name
