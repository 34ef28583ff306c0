"""The installed-versions record refuses a downgrade with no way back, before anything moves."""

from __future__ import annotations

from components import CertManagerArgs, KServeArgs
from infra.kubeflow_platform import KubeflowPlatform
from infra.version_guard import InstalledVersionsProvider, downgrade_failures
from tests.unit.mocks import run

OLD = {"kserve": "v0.18.0", "kfp": "2.16.1"}


def test_going_back_past_kserve_v0_18_fails_the_check_with_the_reason():
    result = InstalledVersionsProvider().check(
        {"versions": OLD}, {"versions": {"kserve": "v0.16.0"}}
    )
    (failure,) = result.failures
    assert failure.property == "versions"
    assert "kserve cannot go back from v0.18.0 to v0.16.0" in failure.reason
    assert "v1alpha2" in failure.reason


def test_upgrades_first_installs_and_other_downgrades_pass():
    provider = InstalledVersionsProvider()
    new = {"versions": {"kserve": "v0.18.0", "kfp": "2.15.0"}}
    assert provider.check({"versions": {"kserve": "v0.16.0"}}, new).failures == []
    assert provider.check({}, new).failures == []  # nothing installed yet
    assert downgrade_failures(OLD, {"kfp": "2.15.0"}) == []


def test_the_record_changes_only_when_a_version_does():
    provider = InstalledVersionsProvider()
    assert not provider.diff("id", {"versions": OLD}, {"versions": dict(OLD)}).changes
    assert provider.diff("id", {"versions": OLD}, {"versions": {**OLD, "kfp": "2.15.0"}}).changes


def test_every_component_waits_for_the_record():
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
