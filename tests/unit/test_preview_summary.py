"""The pull-request summary of a preview, from engine events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.preview_summary import main, markdown, read_steps, read_violations

STACK_URN = "urn:pulumi:ci::kubeflow::"
KFP = "kubeflow:platform:KubeflowPlatform$kubeflow:components:KubeflowPipelines"


def event(op: str, type_chain: str, name: str, diffs: list[str] | None = None) -> str:
    metadata = {"op": op, "urn": f"{STACK_URN}{type_chain}::{name}", "diffs": diffs or []}
    return json.dumps({"resourcePreEvent": {"metadata": metadata}})


EVENTS = [
    json.dumps({"preludeEvent": {"config": {}}}),
    event("same", "pulumi:pulumi:Stack", "kubeflow-ci"),
    event("create", "pulumi:providers:kubernetes", "render"),
    event("create", f"{KFP}$kubernetes:apps/v1:Deployment", "kfp:kubeflow/ml-pipeline"),
    event("create", f"{KFP}$kubernetes:core/v1:Service", "kfp:kubeflow/ml-pipeline"),
    event(
        "update", f"{KFP}$kubernetes:apps/v1:Deployment", "kfp:kubeflow/ml-pipeline-ui", ["spec"]
    ),
    event("replace", f"{KFP}$kubernetes:core/v1:Secret", "kfp:kubeflow/mysql-secret", ["data"]),
    event("create-replacement", f"{KFP}$kubernetes:core/v1:Secret", "kfp:kubeflow/mysql-secret"),
    event("delete", "kubeflow:platform:KubeflowPlatform$kubeflow:components:Katib", "katib"),
    "",
]


def test_counts_each_operation_per_component() -> None:
    text = markdown("ci", read_steps(EVENTS))
    assert "| KubeflowPipelines | 2 | 1 |  | 1 |" in text
    assert "| KubeflowPlatform |  |  | 1 |  |" in text
    assert "| stack | 1 |  |  |  |" in text
    assert "| **total** | 3 | 1 | 1 | 1 |" in text


def test_lists_changed_resources_with_their_changed_properties() -> None:
    text = markdown("ci", read_steps(EVENTS))
    assert "- update `kubernetes:apps/v1:Deployment kfp:kubeflow/ml-pipeline-ui`: spec" in text
    assert "- replace `kubernetes:core/v1:Secret kfp:kubeflow/mysql-secret`: data" in text
    assert "ml-pipeline`" not in text.split("changed resources")[1].replace("ml-pipeline-ui`", "")


def test_no_changes_says_so() -> None:
    assert "No changes." in markdown("prod", read_steps(EVENTS[:2]))


def test_cli_writes_the_summary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(EVENTS))
    assert main(["ci", str(log), "--out", str(tmp_path / "out" / "ci.md")]) == 0
    assert (tmp_path / "out" / "ci.md").read_text() == capsys.readouterr().out


def test_a_preview_against_a_mirror_says_first_what_it_does_not_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(EVENTS))
    assert main(["dev", str(log), "--mirror", "../shared/manifests"]) == 0
    heading, _, note, _, table = capsys.readouterr().out.splitlines()[:5]
    assert heading == "### `pulumi preview` of stack `dev`"
    assert "offline against the manifest mirror `../shared/manifests`" in note
    assert "upstream-lock.yaml" in note
    assert "`make preview STACK=dev`" in note
    assert table.startswith("| component |")
    assert "manifest mirror" not in markdown("dev", read_steps(EVENTS))


def policy_event(level: str, policy: str, urn: str, problem: str, fix: str) -> str:
    message = f"The policy's description.\n{problem}\nfix: {fix}"
    return json.dumps(
        {
            "policyEvent": {
                "resourceUrn": urn,
                "message": message,
                "policyName": policy,
                "policyPackName": "kubeflow-platform",
                "enforcementLevel": level,
            }
        }
    )


DEPLOYMENT_URN = f"{STACK_URN}{KFP}$kubernetes:apps/v1:Deployment::kfp:kubeflow/ml-pipeline"
POLICY_EVENTS = [
    *EVENTS,
    policy_event(
        "mandatory",
        "pinned-images",
        DEPLOYMENT_URN,
        "Deployment kubeflow/ml-pipeline: containers[0] image 'x:latest' uses the moving tag",
        "pin the image | or use a digest",
    ),
    policy_event("warning", "container-requests", DEPLOYMENT_URN, "requests no cpu", "set them"),
    policy_event("mandatory", "custom-resource-schema", "", "the stack", "fix the stack"),
]


def test_policy_violations_are_listed_per_component_with_policy_object_and_fix() -> None:
    text = markdown("ci", read_steps(POLICY_EVENTS), read_violations(POLICY_EVENTS))
    policies = text.split("#### Policies")[1]
    assert "3 violations (1 advisory, 2 mandatory)." in policies
    assert "**KubeflowPipelines**" in policies and "**stack**" in policies
    row = (
        "| mandatory | pinned-images | `kubernetes:apps/v1:Deployment kfp:kubeflow/ml-pipeline` "
        "| Deployment kubeflow/ml-pipeline: containers[0] image 'x:latest' uses the moving tag "
        "| pin the image \\| or use a digest |"
    )
    assert row in policies
    assert "| advisory | container-requests |" in policies
    assert "| custom-resource-schema | (stack) | the stack | fix the stack |" in policies
    assert "description" not in policies


def test_a_preview_with_the_pack_and_no_violations_says_so() -> None:
    text = markdown("ci", read_steps(EVENTS), read_violations(EVENTS))
    assert text.rstrip().endswith("No policy violations.")
    assert "Policies" not in markdown("ci", read_steps(EVENTS))


def test_cli_lists_violations_only_when_the_pack_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(POLICY_EVENTS))
    assert main(["ci", str(log), "--policies"]) == 0
    assert "pinned-images" in capsys.readouterr().out
    assert main(["ci", str(log)]) == 0
    assert "pinned-images" not in capsys.readouterr().out


def upgrade_event(op: str, name: str, **metadata: object) -> str:
    urn = f"{STACK_URN}{KFP}$kubernetes:apps/v1:Deployment::{name}"
    return json.dumps({"resourcePreEvent": {"metadata": {"op": op, "urn": urn, **metadata}}})


def test_an_upgrade_names_the_immutable_field_of_a_replace_and_what_stays_behind() -> None:
    events = [
        upgrade_event("replace", "jobset", diffs=["spec"], keys=["spec.selector"]),
        upgrade_event("delete", "old-crd", old={"retainOnDelete": True}),
        upgrade_event("delete", "old-dashboard", old={"retainOnDelete": False}),
    ]
    text = markdown("prod", read_steps(events))
    assert "replace `kubernetes:apps/v1:Deployment jobset` (replaced: spec.selector" in text
    assert "cannot change in place" in text
    assert "delete `kubernetes:apps/v1:Deployment old-crd` (kept in the cluster: keepData" in text
    assert "Left in the cluster (keepData), no longer in the stack: 1:" in text
    assert "- delete `kubernetes:apps/v1:Deployment old-dashboard`" in text
    assert "old-dashboard` (kept" not in text
    # grouped per component
    assert text.index("**KubeflowPipelines**") < text.index("jobset")
