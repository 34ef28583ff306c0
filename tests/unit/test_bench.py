"""The benchmark's own logic: the objects it gives kubectl, the time per component it reads
from an event log, the parse floor, and its report's verdicts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.bench import bench_platform, cluster, registration

URN = "urn:pulumi:bench::kubeflow::kubeflow:index:KubeflowPlatform$kubeflow:components:{}${}::{}"


def resource(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "inputs": inputs}


def test_state_objects_reveal_secrets_and_merge_patches() -> None:
    secret = {
        cluster.SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270",
        "plaintext": json.dumps({"password": "cGFzcw=="}),
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeflow"}}
    patch = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "kubeflow", "labels": {"katib.kubeflow.org/metrics-collector": "x"}},
    }
    export = {
        "deployment": {
            "resources": [
                resource("pulumi:pulumi:Stack", {}),
                resource("kubeflow:index:LocalCluster", {"kind": "not an object"}),
                resource("kubernetes:core/v1:NamespacePatch", patch),  # before its target too
                resource("kubernetes:core/v1:Namespace", namespace),
                resource(
                    "kubernetes:core/v1:Secret",
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": "db", "namespace": "kubeflow"},
                        "data": secret,
                    },
                ),
                resource("pulumi:providers:kubernetes", {"kubeconfig": "x"}),
            ]
        }
    }
    objects = cluster.state_objects(export)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Namespace", "kubeflow"),
        ("Secret", "db"),
    ]
    assert objects[0]["metadata"]["labels"] == {"katib.kubeflow.org/metrics-collector": "x"}
    assert objects[1]["data"] == {"password": "cGFzcw=="}
    assert "labels" not in namespace["metadata"]  # the export itself is left as it was


def test_component_seconds_from_an_event_log() -> None:
    def event(second: int, kind: str, urn: str) -> str:
        type_ = urn.split("::")[2].split("$")[-1]
        new = {"custom": not type_.startswith("kubeflow:")}
        metadata = {"urn": urn, "type": type_, "new": new}
        return json.dumps({"timestamp": second, kind: {"metadata": metadata}})

    katib_crd = URN.format(
        "Katib", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "a"
    )
    katib_dep = URN.format("Katib", "kubernetes:apps/v1:Deployment", "b")
    kfp_dep = URN.format("Pipelines", "kubernetes:apps/v1:Deployment", "c")
    stack = "urn:pulumi:bench::kubeflow::pulumi:pulumi:Stack::kubeflow-bench"
    katib = URN.rpartition("$")[0].format("Katib") + "::katib"
    log = [
        event(100, "resourcePreEvent", stack),
        event(100, "resourcePreEvent", katib),
        event(100, "resourcePreEvent", katib_crd),
        event(101, "resourcePreEvent", kfp_dep),
        event(103, "resOutputsEvent", katib_crd),
        event(103, "resourcePreEvent", katib_dep),
        event(110, "resOutputsEvent", katib_dep),
        event(111, "resOutputsEvent", kfp_dep),
        event(111, "resOutputsEvent", katib),  # a component, not an object: not counted
        "",
        event(112, "resOutputsEvent", stack),
    ]
    assert cluster.component_seconds(log) == {
        "Katib": {"resources": 2, "span_seconds": 10, "step_seconds": 10},
        "Pipelines": {"resources": 1, "span_seconds": 10, "step_seconds": 10},
    }


class FakeKubectl:
    """Fails `apply` `failures` times, then succeeds; records the commands."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, ...]] = []

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        code = 1 if len(self.calls) <= self.failures else 0
        return subprocess.CompletedProcess(list(args), code, "", "")


def test_kubectl_applies_until_it_succeeds(tmp_path: Path) -> None:
    kubectl = FakeKubectl(failures=2)
    assert cluster.apply_until_it_succeeds(kubectl, tmp_path / "o.yaml", 0) == 3  # type: ignore[arg-type]
    assert (
        kubectl.calls
        == [("apply", "--server-side", "--force-conflicts", f"--filename={tmp_path / 'o.yaml'}")]
        * 3
    )


def test_parse_counts_every_object_of_the_files(tmp_path: Path) -> None:
    manifest = tmp_path / "a.yaml"
    manifest.write_text("kind: A\n---\n---\nkind: B\n")
    floor = registration.parse([str(manifest)])
    assert floor["objects"] == 2
    assert floor["bytes"] == manifest.stat().st_size
    assert registration.main(["nothing"]) == 2


def results(up: float) -> dict[str, Any]:
    kubectl = {
        "cluster start": 5.0,
        "apply": 20.0,
        "wait CRDs Established": 1.0,
        "wait Deployments Available": 4.0,
        "delete": 10.0,
        "cluster stop": 2.0,
    }
    return {
        "date": "2026-12-01",
        "release": "26.03.1",
        "cluster": {
            "pulumi": {
                "seconds": {"up": up, "preview": 12.0, "refresh": 9.0, "destroy": 30.0},
                "components": {
                    "up": {"Katib": {"resources": 2, "span_seconds": 4, "step_seconds": 5}},
                    "destroy": {"Katib": {"resources": 2, "span_seconds": 1, "step_seconds": 2}},
                },
            },
            "kubectl": {"seconds": kubectl, "apply_tries": 2, "slept": 10.0, "objects": 300},
        },
    }


def test_report_ratios_against_kubectls_phases() -> None:
    # kubectl's up: 5 + 20 + 1 + 4 = 30 s, 20 s without its 10 s of sleep; its destroy 12 s
    fast = bench_platform.report(results(up=30.0))
    assert "| `up` / kubectl | 1.50x (1.00x with kubectl's sleeps) | <= 1.5x | met |" in fast
    assert "| `destroy` / kubectl | 2.50x | <= 2x | **missed** |" in fast  # 30 s / 12 s
    assert "| no-op `preview`, full platform | 12.0 s | <= 30 s | met |" in fast
    up, destroy = fast.split("| component (`up`) |")[1].split("| component (`destroy`) |")
    assert "| Katib | 2 | 4 s | 5 s |" in up
    assert "| Katib | 2 | 1 s | 2 s |" in destroy
    assert "kubectl applied 300 objects in 2 tries (10 s of sleep between them)." in fast
    slow = bench_platform.report(results(up=31.0))
    assert "| `up` / kubectl | 1.55x (1.03x with kubectl's sleeps) | <= 1.5x | **missed** |" in slow


def test_registration_is_judged_warm_and_shown_cold_too() -> None:
    full = {
        "resources": 300,
        "register_seconds": 12.0,
        "register_peak_rss_mb": 140.0,
        "cold_register_seconds": 20.0,
        "cold_register_peak_rss_mb": 160.0,
        "parse_seconds": 8.0,
        "parse_peak_rss_mb": 90.0,
        "files_mb": 13.2,
        "objects": 290,
    }
    shown = bench_platform.report({"date": "d", "release": "r", "registration": {"full": full}})
    assert "| full | 300 | 12.0 s (20.0 s) | 140 MB (160 MB) | 13.2 MB, 290 objects |" in shown
    assert "| 8.00 s | 1.50x |" in shown
    judged = bench_platform.report(
        {"date": "d", "release": "r", "registration": {"full platform": full}}
    )
    assert "| registration / parse, full platform | 1.50x (2.50x cold) | <= 1.5x | met |" in judged
    assert "| registration peak RSS, full platform | 140 MB | <= 150 MB | met |" in judged
