"""Fixtures the unit test modules share."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from components import render
from components.catalog import CATALOG
from components.manifests import ManifestError, ManifestPart, MirrorSource
from components.model_registry import OVERLAYS
from components.render import BIN_ENV, CACHE_ENV, Reference, tools_dir
from components.training_operator import MODES
from components.upstream import UpstreamSource
from tests.paths import MIRROR
from tests.render_tools import require_render_tools
from tests.unit.component_helpers import mirror_install, record_renders
from tests.unit.mirror_helpers import mirror_objects, without_crd_schemas
from tests.unit.mocks import Recorder

FULL_MIRROR_LOAD = MirrorSource.load
"""How mirror files load outside the unit tests: CRDs with their schemas (`full_crd_schemas`)."""
RENDER_TOOLS = tools_dir()
"""kustomize and helm as scripts/render-tools.sh builds them (before the tests hide them)."""
RUN_RENDERER = render.run_renderer
MIRROR_RENDERER = "manifest mirror (unit tests)"
PART_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "model-registry": [{"database": database} for database in OVERLAYS],
    "central-dashboard": [
        {"istio": istio, "kserve_menu": menu} for istio in (False, True) for menu in (False, True)
    ],
    "training-operator": [{"mode": mode} for mode in MODES],
}
"""The settings that choose other parts, per component: every part any of them installs."""
MirrorFile = tuple[str, str, str]


@functools.cache
def mirror_references() -> dict[Reference, tuple[MirrorFile, ...]]:
    """Every pinned reference of the version tables -> the mirror files holding its render:
    the part's own, after those of the mirror-only parts right before it (a split release
    file, a chart's CRDs)."""
    out: dict[Reference, tuple[MirrorFile, ...]] = {}
    for entry in CATALOG.values():
        for settings in PART_VARIANTS.get(entry.component_id, [{}]):
            for version in entry.cls.VERSIONS:
                args = entry.args_cls(version=version, **settings)
                if entry.cls.check(args):
                    continue  # e.g. a version of the other mode
                folder, _, parts = entry.cls.planned_parts(args, UpstreamSource())
                pending: list[MirrorFile] = []
                for part in parts:
                    pending.append((folder, version, part.mirror_file))
                    if part.upstream:
                        out.setdefault(Reference.of(part), tuple(pending))
                        pending = []
    return out


def mirror_renderer(reference: Reference) -> tuple[str, str]:
    """What `components.render.run_renderer` returns in the unit tests: the render of a
    version-table reference from the mirror (CRD schemas left out, megabytes no unit test
    reads), one JSON document per object."""
    files = mirror_references().get(reference)
    if files is None:
        raise ManifestError(
            f"unit tests render nothing but the version tables' references (from the mirror), "
            f"not {reference.describe()}; fix: ask for the render_tools fixture"
        )
    missing = [f for f in files if not (MIRROR / "/".join(f)).is_file()]
    if missing:
        raise ManifestError(f"the mirror holds no render of {reference.describe()}: {missing}")
    objects = [without_crd_schemas(o) for file in files for o in mirror_objects(*file)]
    return "\n---\n".join(json.dumps(o) for o in objects), MIRROR_RENDERER


@pytest.fixture(scope="session", autouse=True)
def mirror_renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test renders the pinned upstream into a render cache of its own session (never
    the user's), and GitHub is out of reach: a reference of the version tables renders to the
    objects of its mirror file(s) (`mirror_renderer`), anything else is an error unless the
    test asks for `render_tools`. The repository's lock records none of these renders, so
    they install as new."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("renders")
        patch.setenv(CACHE_ENV, str(cache))
        patch.setenv(BIN_ENV, str(tmp_path_factory.mktemp("no-render-tools")))
        patch.setattr(render, "run_renderer", mirror_renderer)
        yield cache


@pytest.fixture(scope="session", autouse=True)
def no_stack_traces() -> Iterator[None]:
    """Registrations carry no Python stack trace. The SDK records the stack of every resource's
    constructor for the engine's source positions, which nothing under mocks reads; under
    pytest that stack is about 60 frames deep, and walking it (each frame's source line and
    file URI) took a sixth of the time of the tests that register whole stacks
    (test_stacks.py and test_kserve.py in one process, interleaved, 2026-12-07: 11.7-13.3 s
    without it against 14.6-15.1 s). The registration benchmark (tests/bench/registration.py)
    keeps them, as a real run does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sdk_resource, "_get_stack_trace", source_pb2.StackTrace)
        yield


@pytest.fixture(scope="session", autouse=True)
def mirror_without_crd_schemas() -> Iterator[None]:
    """Mirror files load with their CRDs' schemas left out, as the version tables' renders
    do (`mirror_renderer`): megabytes per CRD that no unit test reads and that the mocks
    would copy four times (the full platform registers in a third of the time). The
    integration and e2e suites apply them in full."""
    load = MirrorSource.load

    def lean(self: MirrorSource, component: str, version: str, part: ManifestPart) -> list[Any]:
        return [without_crd_schemas(o) for o in load(self, component, version, part)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MirrorSource, "load", lean)
        yield


@pytest.fixture
def full_crd_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mirror files load with their CRDs' schemas, as outside the unit tests."""
    monkeypatch.setattr(MirrorSource, "load", FULL_MIRROR_LOAD)


@pytest.fixture
def render_tools(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real kustomize and helm (scripts/render-tools.sh), for tests that render local
    upstreams; an error naming the fix (`make setup`) where they are not built."""
    monkeypatch.setenv(BIN_ENV, str(require_render_tools(RENDER_TOOLS)))
    monkeypatch.setattr(render, "run_renderer", RUN_RENDERER)
    return RENDER_TOOLS


@pytest.fixture
def kube_bin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`KUBEFLOW_KUBE_BIN_DIR` set to an empty folder: a local stack needs its control-plane
    binaries' folder to exist (nothing runs under mocks)."""
    monkeypatch.setenv("KUBEFLOW_KUBE_BIN_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def mirrored(request: pytest.FixtureRequest) -> Recorder:
    """The test module's `COMPONENT` installed once from the full manifest mirror with its
    default settings (`mirror_install`)."""
    return mirror_install(request.module.COMPONENT)


@pytest.fixture(scope="module")
def fake_aws_credentials() -> Iterator[None]:
    """Fake AWS keys for moto, and no profile, endpoint or instance-metadata lookup: nothing
    may leave the loopback."""
    with pytest.MonkeyPatch.context() as env:
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            env.delenv(var, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[Reference]:
    """The references the test's components render (from the render cache or anew), in
    the order they ask for them."""
    return record_renders(monkeypatch)
