"""`make bench`: the full platform with Pulumi against kubectl, and registration against the
parse of its files, each ratio from one run on this machine.

1. Registration under mocks (`tests.bench.registration`), KFP only and the full platform,
   beside the parse of the manifest files each one read.
2. `pulumi preview` of the `ci` stack (all nine components, render mode) with the real engine.
3. The full platform on the local cluster (`tests.bench.cluster`): Pulumi's `up`, no-op
   `preview`, `refresh`, `destroy`; kubectl's apply loop, waits and delete on a fresh cluster.

Prints a Markdown report (targets, phases, time per component of `up`) and writes it with the
raw figures to build/bench/report.md and build/bench/results.json. Settings (environment):
BENCH_RELEASE (default 26.03.1), BENCH_RETRY_SLEEP (seconds between kubectl tries; default 20,
as upstream's README loop), BENCH_PARTS (default `registration,ci-preview,cluster`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from components.catalog import CATALOG  # noqa: E402
from infra.cluster import kube_bin_dir  # noqa: E402
from tests.bench import cluster, registration  # noqa: E402
from tests.engine import PulumiProject  # noqa: E402
from tests.paths import MIRROR  # noqa: E402

PARTS = ("registration", "ci-preview", "cluster")


def ci_preview(root: Path) -> dict[str, float]:
    """Wall time of `pulumi preview` of the `ci` stack's config with the real engine."""
    config = yaml.safe_load((REPO / "stacks" / "Pulumi.ci.yaml").read_text())["config"]
    settings = {k.removeprefix("kubeflow:"): v for k, v in config.items()}
    settings |= {"manifestMirror": str(MIRROR), "renderDir": str(root / "rendered")}
    stack = PulumiProject.create(root).stack("ci", settings)
    start = time.perf_counter()
    stack.pulumi("preview")
    return {"preview_seconds": time.perf_counter() - start}


def run_cluster(root: Path, release: str, retry_sleep: float) -> dict[str, Any]:
    """Pulumi's lifecycle of the full platform, then kubectl's with the same objects."""
    settings = {"components": list(CATALOG), "release": release}
    pulumi = cluster.pulumi_lifecycle(root / "pulumi", settings)
    objects = pulumi.pop("objects")
    (root / "kubectl").mkdir()
    kubectl = cluster.kubectl_baseline(root / "kubectl", objects, kube_bin_dir(), retry_sleep)
    kubectl["objects"] = len(objects)
    return {"pulumi": pulumi, "kubectl": kubectl}


def kubectl_totals(kubectl: dict[str, Any]) -> tuple[float, float, float]:
    """kubectl's `up` (the cluster's start, the apply loop and the waits), the same without
    the loop's sleeps, and its `destroy` (delete and the cluster's stop), in seconds."""
    seconds = kubectl["seconds"]
    down = seconds["delete"] + seconds["cluster stop"]
    up = sum(seconds.values()) - down
    return up, up - kubectl["slept"], down


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def target_row(what: str, value: float, unit: str, limit: float, shown: str) -> str:
    verdict = "met" if value <= limit else "**missed**"
    return f"| {what} | {shown} | {unit} | {verdict} |"


def report(results: dict[str, Any]) -> str:
    """The Markdown report of one run."""
    lines = [f"# make bench, {results['date']} (release {results['release']})", ""]
    lines += ["| target | measured | limit | |", "|---|---:|---:|---|"]
    reg = results.get("registration", {})
    if "full platform" in reg:
        full = reg["full platform"]
        times = full["register_seconds"] / full["parse_seconds"]
        shown = f"{times:.2f}x ({ratio(full['cold_register_seconds'], full['parse_seconds'])} cold)"
        lines.append(
            target_row("registration / parse, full platform", times, "<= 1.5x", 1.5, shown)
        )
        lines.append(
            target_row(
                "registration peak RSS, full platform",
                full["register_peak_rss_mb"],
                "<= 150 MB",
                150,
                f"{full['register_peak_rss_mb']:.0f} MB",
            )
        )
    if "cluster" in results:
        p = results["cluster"]["pulumi"]["seconds"]
        up, up_floor, down = kubectl_totals(results["cluster"]["kubectl"])
        shown = f"{ratio(p['up'], up_floor)} ({ratio(p['up'], up)} with kubectl's sleeps)"
        lines.append(target_row("`up` / kubectl", p["up"] / up_floor, "<= 1.5x", 1.5, shown))
        shown = ratio(p["destroy"], down)
        lines.append(target_row("`destroy` / kubectl", p["destroy"] / down, "<= 2x", 2.0, shown))
        shown = f"{p['preview']:.1f} s"
        lines.append(
            target_row("no-op `preview`, full platform", p["preview"], "<= 30 s", 30, shown)
        )
    lines += ["", "## Registration under mocks", ""]
    lines += [
        "| scenario | resources | register (cold) | peak RSS (cold) | files | parse"
        " | register / parse |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in reg.items():
        lines.append(
            f"| {name} | {r['resources']} | {r['register_seconds']:.1f} s"
            f" ({r['cold_register_seconds']:.1f} s) | {r['register_peak_rss_mb']:.0f} MB"
            f" ({r['cold_register_peak_rss_mb']:.0f} MB) | {r['files_mb']:.1f} MB,"
            f" {r['objects']} objects | {r['parse_seconds']:.2f} s"
            f" | {ratio(r['register_seconds'], r['parse_seconds'])} |"
        )
    lines += ["", "Registration is warm (manifests read back from the parse cache), cold in"]
    lines += ["parentheses (an empty cache: every file parsed)."]
    if "ci-preview" in results:
        seconds = results["ci-preview"]["preview_seconds"]
        lines += ["", f"`pulumi preview` of the `ci` stack (real engine): {seconds:.1f} s"]
    if "cluster" in results:
        lines += cluster_lines(results["cluster"])
    return "\n".join(lines) + "\n"


def cluster_lines(results: dict[str, Any]) -> list[str]:
    """The phases of both tools and the time per component of Pulumi's `up`."""
    kubectl = results["kubectl"]
    lines = ["", "## The full platform on the local cluster", ""]
    lines += ["| tool | phase | seconds |", "|---|---|---:|"]
    lines += [f"| pulumi | {k} | {v:.1f} |" for k, v in results["pulumi"]["seconds"].items()]
    lines += [f"| kubectl | {k} | {v:.1f} |" for k, v in kubectl["seconds"].items()]
    lines += [
        "",
        f"kubectl applied {kubectl['objects']} objects in {kubectl['apply_tries']} tries "
        f"({kubectl['slept']:.0f} s of sleep between them).",
        "",
    ]
    for step, components in results["pulumi"]["components"].items():
        lines += [
            f"| component (`{step}`) | resources | first start to last end | sum of steps |",
            "|---|---:|---:|---:|",
        ]
        for name, c in components.items():
            lines.append(
                f"| {name} | {c['resources']:.0f} | {c['span_seconds']} s | {c['step_seconds']} s |"
            )
        lines.append("")
    return lines


def main() -> int:
    release = os.environ.get("BENCH_RELEASE", "26.03.1")
    retry_sleep = float(os.environ.get("BENCH_RETRY_SLEEP", "20"))
    parts = os.environ.get("BENCH_PARTS", ",".join(PARTS)).split(",")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        print(f"BENCH_PARTS names {unknown}; fix: use any of {','.join(PARTS)}")
        return 2
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "release": release}
    if "registration" in parts:
        results["registration"] = {
            "KFP only": registration.measure(["pipelines"], release),
            "full platform": registration.measure(list(CATALOG), release),
        }
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if "ci-preview" in parts:
            results["ci-preview"] = ci_preview(Path(tmp) / "ci")
        if "cluster" in parts:
            results["cluster"] = run_cluster(Path(tmp) / "cluster", release, retry_sleep)
    text = report(results)
    print(text)
    out = REPO / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(text)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
