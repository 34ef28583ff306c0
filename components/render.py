"""Render a pinned upstream part into objects, once per reference.

A part's reference (how it is rendered, from where, at which pin) is rendered by the tools
`scripts/render-tools.sh` builds from Go modules: `kustomize build` for a kustomization
(a local folder, a remote URL `https://github.com/<org>/<repo>/<path>?ref=<tag>`, or a git
URL such as `file:///srv/repo//path?ref=<tag>`), `helm template` for a chart (of a chart
repository, or a local chart folder) and a download (or a read) for a release file. The
render's text is cached under `$KUBEFLOW_RENDER_CACHE` (default
`~/.cache/kubeflow-pulumi/renders/`), keyed by the reference, so a reference is fetched
once; a local folder or file is not pinned and is rendered again each time.

The digest of a render is computed over its parsed objects, not its bytes: SHA-256 of the
canonical JSON (sorted keys, no spaces) of the list of objects sorted by their canonical
JSON. Reordering documents, comments or YAML style do not change it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from components.manifests import KubeObject, ManifestError, ManifestPart, parse_objects
from components.parsed import tools_cache

CACHE_ENV = "KUBEFLOW_RENDER_CACHE"
BIN_ENV = "KUBEFLOW_RENDER_BIN"
RENDER_FILE = "render.yaml"
ABOUT_FILE = "about.json"
TIMEOUT_SECONDS = 600
TOOLS_FIX = "fix: run scripts/render-tools.sh (make setup), or set KUBEFLOW_RENDER_BIN"
OFFLINE_FIX = (
    "render it once where the network reaches it (the render cache keeps it; scripts/netns.sh "
    "reaches nothing: docs/upstream.md), or use a manifest mirror (kubeflow:manifestMirror; "
    "for a preview only: KUBEFLOW_PREVIEW_MIRROR)"
)


@dataclass(frozen=True)
class Reference:
    """Everything a render depends on: the same reference renders the same objects."""

    kind: str
    """`kustomize`, `helm` or `file` (ManifestPart.upstream_kind)."""
    location: str
    """The kustomization, chart repository (or local chart) or release file."""
    chart: str = ""
    chart_version: str = ""
    namespace: str = ""
    """The release namespace of a chart."""

    @classmethod
    def of(cls, part: ManifestPart) -> Reference:
        """The reference of a part with an upstream."""
        if part.upstream_kind != "helm":
            return cls(part.upstream_kind, part.upstream)
        return cls("helm", part.upstream, part.chart, part.chart_version, part.namespace)

    def as_dict(self) -> dict[str, str]:
        """The fields that are set, as the lock and the cache record them."""
        return {key: value for key, value in asdict(self).items() if value}

    def key(self) -> str:
        """A short, stable name of the reference (its cache folder)."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:24]

    def is_local(self) -> bool:
        """A local folder or file: not pinned, so never cached."""
        return Path(self.location).exists()

    def describe(self) -> str:
        """The reference in one line, for messages."""
        if self.kind != "helm":
            return self.location
        return f"chart {self.chart} {self.chart_version} of {self.location}".replace("  ", " ")


@dataclass(frozen=True)
class Render:
    """The objects a reference renders to."""

    reference: Reference
    objects: list[KubeObject]
    digest: str
    rendered_by: str
    path: Path | None
    """The cached render (None for a local reference, which is not cached)."""


def digest(objects: Sequence[KubeObject]) -> str:
    """`sha256:<hex>` of the objects, independent of their order and of YAML formatting."""
    canonical = sorted(
        json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        for o in objects
    )
    return "sha256:" + hashlib.sha256(f"[{','.join(canonical)}]".encode()).hexdigest()


def cache_dir() -> Path:
    """Where renders are cached: $KUBEFLOW_RENDER_CACHE, else ~/.cache/kubeflow-pulumi/renders."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache/kubeflow-pulumi/renders"


def tools_dir() -> Path:
    """Where kustomize and helm are: $KUBEFLOW_RENDER_BIN, else scripts/render-tools.sh's."""
    configured = os.environ.get(BIN_ENV)
    if configured:
        return Path(configured)
    return tools_cache() / "render-tools" / "bin"


def render(reference: Reference, cache: Path, *, refresh: bool = False) -> Render:
    """The render of `reference`: from `cache` when it holds it (unless `refresh`), else
    rendered now and, when the reference is pinned, cached."""
    if reference.is_local():
        return _parsed(reference, *run_renderer(reference), None)
    folder = cache / reference.key()
    if refresh or not (folder / RENDER_FILE).is_file():
        _store(folder, reference, *run_renderer(reference))
    return _cached(folder, reference)


def run_renderer(reference: Reference) -> tuple[str, str]:
    """Render `reference` now: the YAML its tool prints, and that tool with its version."""
    if reference.kind == "kustomize":
        text = _run("kustomize", ["build", reference.location], reference)
    elif reference.kind == "helm":
        text = _run("helm", _helm_args(reference), reference)
    else:
        text = _download(reference.location)
    return text, _rendered_by(tools_dir(), reference.kind)


def cached_renders(cache: Path) -> list[tuple[Render, dict[str, str]]]:
    """Every render in `cache` with what it was rendered for (`component`, `version`, `part`,
    as `note_use` wrote them)."""
    out = []
    for about in sorted(cache.glob(f"*/{ABOUT_FILE}")):
        recorded = json.loads(about.read_text(encoding="utf-8"))
        reference = Reference(**recorded["reference"])
        out.append((_cached(about.parent, reference), dict(recorded.get("use") or {})))
    return out


def note_use(rendered: Render, component: str, version: str, part: str) -> None:
    """Record in the cache which part a render is for, so `python -m components.lock` can
    record a render a preview made."""
    if rendered.path is None:
        return
    about = rendered.path.parent / ABOUT_FILE
    recorded = json.loads(about.read_text(encoding="utf-8"))
    use = {"component": component, "version": version, "part": part}
    if recorded.get("use") != use:
        recorded["use"] = use
        about.write_text(json.dumps(recorded, indent=2, sort_keys=True), encoding="utf-8")


@functools.cache
def _cached(folder: Path, reference: Reference) -> Render:
    """A cached render, parsed once per process (renders are never changed in place: a new
    render is stored under a new folder name and moved over the old one)."""
    about = json.loads((folder / ABOUT_FILE).read_text(encoding="utf-8"))
    text = (folder / RENDER_FILE).read_text(encoding="utf-8")
    return _parsed(reference, text, str(about.get("rendered_by", "")), folder / RENDER_FILE)


def _parsed(reference: Reference, text: str, rendered_by: str, path: Path | None) -> Render:
    objects = parse_objects(text, str(path or reference.describe()))
    return Render(reference, objects, digest(objects), rendered_by, path)


def _store(folder: Path, reference: Reference, text: str, rendered_by: str) -> None:
    """Write a render next to `folder`, then move it into place (readers never see half)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    (staging / RENDER_FILE).write_text(text, encoding="utf-8")
    about = {"reference": reference.as_dict(), "rendered_by": rendered_by}
    (staging / ABOUT_FILE).write_text(json.dumps(about, indent=2, sort_keys=True), "utf-8")
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    try:
        staging.rename(folder)
    except OSError:  # another process stored the same reference meanwhile: keep its render
        shutil.rmtree(staging, ignore_errors=True)
    _cached.cache_clear()


def _helm_args(reference: Reference) -> list[str]:
    """`helm template` of the chart with its default values, CRDs included."""
    local = Path(reference.location).is_dir()
    release = reference.chart or Path(reference.location).name
    args = ["template", release, reference.location if local else reference.chart]
    if not local:
        args += ["--repo", reference.location]
    if reference.chart_version:
        args += ["--version", reference.chart_version]
    return [*args, "--namespace", reference.namespace or "default", "--include-crds"]


def _run(tool: str, args: list[str], reference: Reference) -> str:
    binary = tools_dir() / tool
    if not os.access(binary, os.X_OK):
        raise ManifestError(
            f"cannot render {reference.describe()}: {binary} is missing; {TOOLS_FIX}"
        )
    try:
        done = subprocess.run(
            [str(binary), *args], capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as error:
        raise ManifestError(
            f"{tool} did not render {reference.describe()} in {TIMEOUT_SECONDS} s; fix: check "
            f"the network access to it, or {OFFLINE_FIX}"
        ) from error
    if done.returncode != 0:
        said = " ".join(done.stderr.split())[-600:]
        raise ManifestError(
            f"{tool} could not render {reference.describe()}: {said}; fix: "
            f"check the reference and the network access to it, or {OFFLINE_FIX}"
        )
    return done.stdout


def _download(location: str) -> str:
    """A release file: read when local, else downloaded."""
    if Path(location).is_file():
        return Path(location).read_text(encoding="utf-8")
    try:
        with urllib.request.urlopen(location, timeout=TIMEOUT_SECONDS) as response:
            body: bytes = response.read()
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ManifestError(
            f"cannot download {location}: {error}; fix: check the URL and the network access "
            f"to it, or {OFFLINE_FIX}"
        ) from error
    return body.decode("utf-8")


@functools.cache
def _rendered_by(tools: Path, kind: str) -> str:
    """The tool and version that render `kind` references, e.g. `kustomize v5.6.0`."""
    if kind == "file":
        return "download"
    tool = "kustomize" if kind == "kustomize" else "helm"
    binary = tools / tool
    args = ["version"] if tool == "kustomize" else ["version", "--short"]
    try:
        done = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60)
    except OSError as error:
        raise ManifestError(f"cannot run {binary}: {error}; {TOOLS_FIX}") from error
    return f"{tool} {done.stdout.strip()}"
