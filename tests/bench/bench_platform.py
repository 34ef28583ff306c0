"""Benchmark: the full platform against a KFP-only baseline, measured in the same run.

Three measurements per scenario, each reported with its ratio to the baseline:
- registration: the Python program (infra/__main__.py) under Pulumi mocks, in a fresh
  interpreter (wall time and peak RSS of that interpreter);
- `pulumi preview` and `pulumi up` wall time with the real engine in render mode (no
  cluster), and the peak RSS of the largest process the engine started.

Run through `make bench` (it sets up the engine and the loopback-only netns). Results go to
stdout and build/bench/platform.json. Repeats: BENCH_REPEATS (default 1).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.engine import MIRROR, PulumiProject  # noqa: E402

ALL = [
    "cert-manager",
    "pipelines",
    "katib",
    "training-operator",
    "kserve",
    "spark-operator",
    "model-registry",
    "notebooks",
    "central-dashboard",
]
SCENARIOS = {
    "baseline (pipelines)": ["pipelines"],
    "full platform minus kserve": [c for c in ALL if c != "kserve"],
    "full platform": ALL,
}

REGISTER = """
import json, resource, sys, time
start = time.perf_counter()
from tests.unit.mocks import run_stack
recorder = run_stack("ci", json.loads(sys.argv[1]))
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "resources": len(recorder.registered),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def register(components: list[str]) -> dict[str, float]:
    """Registration of the program under mocks, in a fresh interpreter."""
    overrides = json.dumps({"kubeflow:components": components})
    done = subprocess.run(
        [sys.executable, "-c", REGISTER, overrides],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def engine(components: list[str]) -> dict[str, float]:
    """The engine measurement in a fresh interpreter, so peak RSS is this scenario's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--engine", json.dumps(components)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_engine(components: list[str], workdir: Path) -> dict[str, float]:
    """`pulumi preview` then `pulumi up` of a render stack; wall times and peak child RSS."""
    project = PulumiProject.create(workdir)
    stack = project.stack(
        "bench",
        {
            "cluster": "render",
            "manifestMirror": str(MIRROR),
            "renderDir": str(workdir / "rendered"),
            "components": components,
        },
    )
    start = time.perf_counter()
    stack.pulumi("preview")
    preview = time.perf_counter() - start
    start = time.perf_counter()
    stack.up()
    up = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"preview_seconds": preview, "up_seconds": up, "peak_child_rss_mb": peak}


def main() -> int:
    """Run every scenario BENCH_REPEATS times; print medians and ratios to the baseline."""
    repeats = int(os.environ.get("BENCH_REPEATS", "1"))
    results: dict[str, dict[str, Any]] = {}
    for name, components in SCENARIOS.items():
        runs = []
        for _ in range(repeats):
            runs.append({**register(components), **engine(components)})
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    baseline = results["baseline (pipelines)"]
    lines = ["scenario | metric | value | x baseline", "---|---|---:|---:"]
    for name, metrics in results.items():
        for metric, value in metrics.items():
            ratio = value / baseline[metric] if baseline[metric] else float("nan")
            lines.append(f"{name} | {metric} | {value:.1f} | {ratio:.2f}")
    print("\n".join(lines))
    out = REPO / "build" / "bench" / "platform.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"repeats": repeats, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--engine"]:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            print(json.dumps(measure_engine(json.loads(sys.argv[2]), Path(tmp))))
        raise SystemExit(0)
    raise SystemExit(main())
