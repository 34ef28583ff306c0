"""Registration of the program under Pulumi mocks, beside the floor of that work: parsing the
same manifest files (and serialising their objects once).

Each measurement runs in a fresh interpreter (`python -m tests.bench.registration ...`), so its
peak RSS is its own:
- `register '<settings JSON>'`: the `ci` stack's program (infra/__main__.py) with those
  settings (`kubeflow:components`, `kubeflow:release`), from the first import to the last
  registration, under the unit tests' mocks (`tests.unit.mocks`: each resource's outputs
  are its inputs as the SDK sent them, as a real engine answers without Python work); it
  also lists the manifest files the program read. It runs twice on one
  empty parse cache (components/parsed.py): cold (every file parsed) and warm (read back
  as JSON, as every later `preview` and `up` of the same versions);
- `parse FILE...`: `yaml.load_all` (the C loader the program uses) and `json.dumps` of every
  object of those files, timed after the imports.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from components import parsed

REPO = Path(__file__).resolve().parents[2]


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def register(settings: dict[str, Any]) -> dict[str, Any]:
    """Register the `ci` stack with `settings` (`kubeflow:` keys) under mocks; what it took
    and the manifest files it read."""
    start = time.perf_counter()
    import components.manifests as manifests
    from tests.unit.mocks import run_stack

    read: dict[str, None] = {}
    load = manifests.load_objects

    def recording(path: Path) -> list[Any]:
        read[str(path)] = None
        return load(path)

    manifests.load_objects = recording
    recorder = run_stack("ci", settings)
    return {
        "seconds": time.perf_counter() - start,
        "resources": len(recorder.registered),
        "peak_rss_mb": peak_rss_mb(),
        "files": list(read),
    }


def parse(files: list[str]) -> dict[str, Any]:
    """Parse every file once and serialise its objects once."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    start = time.perf_counter()
    objects = 0
    for name in files:
        with Path(name).open(encoding="utf-8") as stream:
            docs = [doc for doc in yaml.load_all(stream, Loader=loader) if doc]
        json.dumps(docs)
        objects += len(docs)
    return {
        "seconds": time.perf_counter() - start,
        "objects": objects,
        "bytes": sum(Path(name).stat().st_size for name in files),
        "peak_rss_mb": peak_rss_mb(),
    }


def in_fresh_interpreter(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this module with `args` (and `env` added to the environment) in a new Python
    process; its JSON result."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.registration", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tests.bench.registration {args[0]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(components: list[str], release: str) -> dict[str, Any]:
    """Registration of `components` at `release` and the parse floor of the files it read."""
    settings = {"kubeflow:components": components, "kubeflow:release": release}
    with tempfile.TemporaryDirectory() as cache:
        env = {parsed.CACHE_ENV: cache}
        cold = in_fresh_interpreter("register", json.dumps(settings), env=env)
        registered = in_fresh_interpreter("register", json.dumps(settings), env=env)
    floor = in_fresh_interpreter("parse", *registered.pop("files"))
    return {
        "resources": registered["resources"],
        "register_seconds": registered["seconds"],
        "register_peak_rss_mb": registered["peak_rss_mb"],
        "cold_register_seconds": cold["seconds"],
        "cold_register_peak_rss_mb": cold["peak_rss_mb"],
        "parse_seconds": floor["seconds"],
        "parse_peak_rss_mb": floor["peak_rss_mb"],
        "files_mb": floor["bytes"] / 1e6,
        "objects": floor["objects"],
    }


def main(argv: list[str]) -> int:
    """`register '<settings JSON>'` or `parse FILE...`; prints one JSON line."""
    if argv[:1] == ["register"] and len(argv) == 2:
        print(json.dumps(register(json.loads(argv[1]))))
    elif argv[:1] == ["parse"]:
        print(json.dumps(parse(argv[1:])))
    else:
        print("usage: python -m tests.bench.registration register SETTINGS_JSON | parse FILE...")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
