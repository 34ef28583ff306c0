"""Where a component's Kubernetes manifests come from.

A component version is a list of `ManifestPart`s applied in order (for KFP: the
cluster-scoped resources, then the namespaced install). Each part names its
pinned upstream (a kustomize directory, a Helm chart or a release file, rendered
by `components.upstream`) and the file that holds the same render in a mirror
folder laid out `<component>/<version>/<file>.yaml` (air-gapped sites, CI). Both
sources give the component the same list of objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from components import parsed

KubeObject = dict[str, Any]
"""One Kubernetes object as a plain dict (apiVersion, kind, metadata, ...)."""


class ManifestError(ValueError):
    """A manifest source cannot provide what a component asks for."""


@dataclass(frozen=True)
class ManifestPart:
    """One unit of an upstream install, applied after the parts before it."""

    name: str
    """Short name, used in resource names (e.g. `cluster-scoped`)."""
    upstream: str
    """Pinned upstream location: a kustomize directory URL, a YAML file URL or a Helm chart
    repository URL. Empty for a mirror-only part: objects a later upstream part renders
    itself (e.g. a chart's CRDs), kept as a file of their own in a mirror."""
    upstream_kind: Literal["kustomize", "file", "helm"]
    """How `upstream` is rendered: `kustomize build`, a download, or `helm template`. A
    local folder or file (or a `file://` git URL) works as well as a remote one."""
    mirror_file: str
    """File name of the same render inside `<mirror>/<component>/<version>/`."""
    chart: str = ""
    """Helm chart name in the `upstream` repository (helm parts only)."""
    chart_version: str = ""
    """Pinned Helm chart version (helm parts only)."""
    namespace: str = ""
    """Release namespace of a helm part (`helm template --namespace`). Fixed per version, so
    the render (and its digest in the lock) does not depend on settings: the component's
    `namespace` moves the objects afterwards, as it moves a kustomization's."""


class ManifestSource(Protocol):
    """Where the objects of a component's parts come from: `MirrorSource`,
    `components.upstream.UpstreamSource`, or a source of the user's own."""

    def load(self, component: str, version: str, part: ManifestPart) -> list[KubeObject]:
        """Every object of one part of `component` (the upstream project, as a mirror names
        its folder) at `version`, in render order."""
        ...


@dataclass(frozen=True)
class MirrorSource:
    """Read rendered YAML from a folder laid out `<component>/<version>/*.yaml`."""

    root: Path

    def part_path(self, component: str, version: str, part: ManifestPart) -> Path:
        """The mirror file for one part; a clear error when it is missing."""
        version_dir = self.root / component / version
        if not self.root.is_dir():
            raise ManifestError(
                f"manifest mirror folder {self.root} does not exist; fix: set "
                "kubeflow:manifestMirror to a folder laid out <component>/<version>/*.yaml, "
                "or unset it to use the pinned upstream"
            )
        if not version_dir.is_dir():
            raise ManifestError(
                f"manifest mirror {self.root} has no {component} {version} "
                f"(expected folder {version_dir}); fix: render that version into the mirror "
                "or choose a version the mirror holds"
            )
        path = version_dir / part.mirror_file
        if not path.is_file():
            raise ManifestError(
                f"manifest mirror is missing {path} ({component} {version}, part {part.name}); "
                "fix: add that render to the mirror"
            )
        return path

    def load(self, component: str, version: str, part: ManifestPart) -> list[KubeObject]:
        """Every object of one part, in file order (empty documents skipped)."""
        return load_objects(self.part_path(component, version, part))


MIRROR_FILE_FIX = (
    "fix: render that part into the mirror again, or restore the file from where the mirror "
    "came from"
)
RENDER_FIX = "fix: render it again (a cached render: delete its folder, and it renders anew)"


def load_objects(path: Path) -> list[KubeObject]:
    """Parse a multi-document YAML file (a mirror's) into Kubernetes objects."""
    return parse_objects(path.read_text(encoding="utf-8"), str(path), MIRROR_FILE_FIX)


def parse_objects(text: str, origin: str, fix: str = RENDER_FIX) -> list[KubeObject]:
    """Parse multi-document YAML (a file, a render) into Kubernetes objects; `origin` names
    it in errors, on one line (a list of problems shows each on its own), with `fix`."""
    try:
        docs = parsed.load_all(text)
    except yaml.YAMLError as error:
        raise ManifestError(f"{origin}: not valid YAML ({_one_line(error)}); {fix}") from error
    for doc in docs:
        if not isinstance(doc, Mapping) or "kind" not in doc or "apiVersion" not in doc:
            raise ManifestError(
                f"{origin}: a document is not a Kubernetes object: {_one_line(doc)[:80]}; {fix}"
            )
    return [dict(doc) for doc in docs]


def _one_line(value: object) -> str:
    """`value` as text on one line (a YAML error spans several)."""
    return " ".join(str(value).split())


def github_kustomize(repo: str, path: str, ref: str) -> str:
    """A kustomize remote URL pinned to a tag, as `kubectl apply -k` takes it."""
    return f"https://github.com/{repo}/{path}?ref={ref}"


def github_release_file(repo: str, tag: str, asset: str) -> str:
    """The URL of a file attached to a GitHub release."""
    return f"https://github.com/{repo}/releases/download/{tag}/{asset}"
