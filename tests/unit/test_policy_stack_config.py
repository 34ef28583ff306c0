"""The pack config scripts/preview.sh writes for a stack, from its `pulumi config --json`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from policy.stack_config import StackConfigError, main, pack_config


def config(**values: Any) -> dict[str, Any]:
    """`pulumi config --json` output: objects carry objectValue, scalars value."""
    out = {}
    for key, value in values.items():
        entry: dict[str, Any] = {"value": json.dumps(value), "secret": False}
        if isinstance(value, dict | list):
            entry["objectValue"] = value
        else:
            entry["value"] = value
        out[key.replace("__", ":")] = entry
    return out


def test_cluster_mode_and_kubernetes_version_come_from_the_stack() -> None:
    document = pack_config(config(kubeflow__cluster="local", policy__kubernetesVersion="1.33"))
    assert document["webhook-failure-policy"] == {"clusterMode": "local"}
    assert document["kubernetes-schema"] == {"kubernetesVersion": "1.33"}


def test_defaults_are_pulumi_yamls_cluster_mode_and_the_local_clusters_version() -> None:
    document = pack_config({})
    assert document["webhook-failure-policy"] == {"clusterMode": "existing"}
    assert document["kubernetes-schema"] == {"kubernetesVersion": "1.34"}


def test_the_stack_sets_enforcement_levels() -> None:
    levels = {"container-requests": "mandatory", "webhook-failure-policy": "advisory"}
    document = pack_config(config(kubeflow__cluster="render", policy__enforcement=levels))
    assert document["container-requests"] == {"enforcementLevel": "mandatory"}
    assert document["webhook-failure-policy"] == {
        "clusterMode": "render",
        "enforcementLevel": "advisory",
    }


def test_bad_settings_are_all_reported_with_their_fix() -> None:
    bad = config(
        kubeflow__cluster="cloud",
        policy__kubernetesVersion="v1.34.2",
        policy__enforcement={"no-such-policy": "mandatory", "pinned-images": "strict"},
    )
    with pytest.raises(StackConfigError) as error:
        pack_config(bad)
    text = str(error.value)
    assert "kubeflow:cluster = 'cloud' is not a cluster mode; fix: use one of local" in text
    assert "policy:kubernetesVersion = 'v1.34.2' is not a Kubernetes minor version; fix" in text
    assert "'no-such-policy' is not a policy of the pack; fix: use one of pinned-images" in text
    assert "policy:enforcement.pinned-images = 'strict' is not a level; fix" in text


def test_cli_writes_the_pack_config_or_fails_before_any_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ci.json"
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(config(kubeflow__cluster="render"))))
    assert main(["ci", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["webhook-failure-policy"] == {"clusterMode": "render"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(config(kubeflow__cluster="x"))))
    assert main(["ci"]) == 2
    assert "error: stack ci: invalid policy settings" in capsys.readouterr().err
