"""The installed-versions record refuses a downgrade with no way back, before anything moves."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from components import CertManagerArgs, KatibArgs, KServeArgs, PipelinesArgs, TrainingOperatorArgs
from components.manifests import MirrorSource
from infra.kubeflow_platform import KubeflowPlatform
from infra.version_guard import VERSION_ANNOTATION, InstalledVersionsProvider, downgrade_failures
from tests.paths import MIRROR
from tests.unit.mocks import Recorder, run

OLD = {"kserve": "v0.18.0", "kfp": "2.16.1"}


def test_going_back_past_kserve_v0_18_fails_the_check_with_the_reason() -> None:
    result = InstalledVersionsProvider().check(
        {"versions": OLD}, {"versions": {"kserve": "v0.16.0"}}
    )
    (failure,) = result.failures
    assert failure.property == "versions"
    assert "kserve cannot go back from v0.18.0 to v0.16.0" in failure.reason
    assert "v1alpha2" in failure.reason


def test_upgrades_first_installs_and_other_downgrades_pass() -> None:
    provider = InstalledVersionsProvider()
    new = {"versions": {"kserve": "v0.18.0", "kfp": "2.15.0"}}
    assert provider.check({"versions": {"kserve": "v0.16.0"}}, new).failures == []
    assert provider.check({}, new).failures == []  # nothing installed yet
    assert downgrade_failures(OLD, {"kfp": "2.15.0"}) == []


def test_the_record_changes_only_when_a_version_does() -> None:
    provider = InstalledVersionsProvider()
    assert not provider.diff("id", {"versions": OLD}, {"versions": dict(OLD)}).changes
    assert provider.diff("id", {"versions": OLD}, {"versions": {**OLD, "kfp": "2.15.0"}}).changes


def test_every_component_waits_for_the_record() -> None:
    def program() -> None:
        # the pinned upstream: the provider renders it, so nothing big is parsed here
        KubeflowPlatform(
            "kubeflow",
            {"cert-manager": CertManagerArgs(), "kserve": KServeArgs(release="26.03.1")},
        )

    recorder = run(program)
    (record,) = [r for r in recorder.registered if r.name == "kubeflow-versions"]
    assert record.inputs["versions"] == {"cert-manager": "v1.19.4", "kserve": "v0.18.0"}
    components = [r for r in recorder.registered if r.type.startswith("kubeflow:components:")]
    assert len(components) == 2
    assert all(record.urn in c.dependencies for c in components)


def test_the_record_names_what_a_deployment_changes_and_forgets_it_once_applied() -> None:
    provider = InstalledVersionsProvider()
    checked = provider.check(
        {"versions": {"trainer": "v2.1.0", "kserve": "v0.18.0"}},
        {"versions": {"trainer": "v2.2.0", "kserve": "v0.18.0", "katib": "v0.19.0"}},
    )
    assert checked.inputs["changing"] == ["trainer"]  # katib is new, kserve stays
    assert provider.check({}, {"versions": OLD}).inputs["changing"] == []
    created = provider.create({"versions": OLD, "changing": []})
    assert created.outs is not None and created.outs["changing"] == []
    updated = provider.update("id", {}, checked.inputs)
    assert updated.outs == {**checked.inputs, "changing": []}


class Changing(Recorder):
    """Mocks whose version record says `changing`, as a preview of a version change does."""

    def __init__(self, changing: list[str]) -> None:
        super().__init__()
        self.changing = changing

    def extra_outputs(self, type_: str) -> dict[str, Any]:
        if type_ == "pulumi-python:dynamic/kubeflow:InstalledVersions":
            return {"changing": self.changing}
        return {}


def version_annotations(recorder: Recorder) -> dict[str, Any]:
    """The version annotation of every Kubernetes object (None: not annotated), by name."""
    return {
        r.name: ((r.inputs.get("metadata") or {}).get("annotations") or {}).get(VERSION_ANNOTATION)
        for r in recorder.of_type("kubernetes:")
    }


def trainer_platform() -> None:
    mirror = MirrorSource(MIRROR)
    KubeflowPlatform(
        "kubeflow",
        {
            "cert-manager": CertManagerArgs(source=mirror, release="26.03.1"),
            "training-operator": TrainingOperatorArgs(
                mode="trainer", source=mirror, release="26.03.1"
            ),
        },
    )


RUNTIME = "training-operator:torchtune-llama3.2-3b"
"""A ClusterTrainingRuntime of Trainer v2.2.0 that uses a field v2.1.0's CRD lacks."""
ISSUER = "cert-manager:kubeflow-self-signing-issuer"


CONTROLLER = "training-operator:kubeflow-system/kubeflow-trainer-controller-manager"
JOBSET = "training-operator:kubeflow-system/jobset-controller-manager"
"""Replaced by the upgrade to v2.2.0: the dry run of a same-name replacement patches the
live object and fails on its immutable selector."""


@pytest.mark.parametrize("preview", [True, False])
def test_objects_of_a_changing_version_are_not_dry_run_in_preview(preview: bool) -> None:
    found = version_annotations(
        run(trainer_platform, recorder=Changing(["trainer"]), preview=preview)
    )
    # in the preview the value is unknown: the provider shows the object without a dry run
    for name in (RUNTIME, CONTROLLER, JOBSET):
        assert isinstance(found[name], Unknown) if preview else found[name] == "v2.2.0"
    # CRDs keep their dry run (the server checks a new schema against stored objects)
    assert found["training-operator:trainjobs.trainer.kubeflow.org"] == "v2.2.0"
    assert found[ISSUER] == "v1.20.2"  # cert-manager's version does not change


def test_nothing_is_unknown_in_a_preview_that_changes_no_version() -> None:
    found = version_annotations(run(trainer_platform, recorder=Changing([]), preview=True))
    assert found[RUNTIME] == "v2.2.0"
    assert not [name for name, value in found.items() if isinstance(value, Unknown)]


def test_a_patch_of_another_components_object_is_not_annotated() -> None:
    found = version_annotations(run(katib_after_kfp, recorder=Changing([]), preview=False))
    assert found["katib:kubeflow"] is None  # Katib's label patch on KFP's Namespace
    assert found["pipelines:kubeflow"] == "2.16.1"


def katib_after_kfp() -> None:
    mirror = MirrorSource(MIRROR)
    KubeflowPlatform(
        "kubeflow",
        {
            "pipelines": PipelinesArgs(source=mirror, release="26.03"),
            "katib": KatibArgs(source=mirror, release="26.03"),
        },
    )
