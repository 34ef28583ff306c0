"""The pull-request summary of a preview, from engine events."""

from __future__ import annotations

import json

from infra.preview_summary import main, markdown, read_steps

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


def test_counts_each_operation_per_component():
    text = markdown("ci", read_steps(EVENTS))
    assert "| KubeflowPipelines | 2 | 1 |  | 1 |" in text
    assert "| KubeflowPlatform |  |  | 1 |  |" in text
    assert "| stack | 1 |  |  |  |" in text
    assert "| **total** | 3 | 1 | 1 | 1 |" in text


def test_lists_changed_resources_with_their_changed_properties():
    text = markdown("ci", read_steps(EVENTS))
    assert "- update `kubernetes:apps/v1:Deployment kfp:kubeflow/ml-pipeline-ui`: spec" in text
    assert "- replace `kubernetes:core/v1:Secret kfp:kubeflow/mysql-secret`: data" in text
    assert "ml-pipeline`" not in text.split("changed resources")[1].replace("ml-pipeline-ui`", "")


def test_no_changes_says_so():
    assert "No changes." in markdown("prod", read_steps(EVENTS[:2]))


def test_cli_writes_the_summary_file(tmp_path, capsys):
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(EVENTS))
    assert main(["ci", str(log), "--out", str(tmp_path / "out" / "ci.md")]) == 0
    assert (tmp_path / "out" / "ci.md").read_text() == capsys.readouterr().out
