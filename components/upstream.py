"""The pinned upstream as a manifest source: rendered once per reference, checked against
the lock.

`UpstreamSource` gives a component the objects each part's pinned reference renders to
(`components.render`), exactly as a `MirrorSource` gives the objects of a mirror file, so
both go through the same filters, transforms and install order. Every render is checked
against the lock (`components/data/upstream-lock.yaml`): per upstream project, version and
part, the digest of the objects the pinned reference rendered to when it was recorded.

- A digest that differs is an error (a moved tag, another renderer, a stale cached render),
  naming the part and the fix; nothing is installed from it.
- A part the lock has no digest for is rendered and installed, and reported as new until
  `make lock` (`python -m components.lock`) records it.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
import yaml

from components.manifests import KubeObject, ManifestError, ManifestPart, ManifestSource
from components.objects import child_urn
from components.render import Reference, Render, cache_dir, note_use, render
from components.transforms import CLUSTER_SCOPED_KINDS

LOCK_FILE = Path(__file__).with_name("data") / "upstream-lock.yaml"
LOCK_COMMAND = "make lock (python -m components.lock)"
LOCK_HEADER = """\
# What each pinned upstream part renders to: <project>/<version>/<part> -> the reference
# rendered, the digest of its objects (SHA-256 of their sorted canonical JSON, not of the
# bytes), how many there are and which tool rendered them. Written by `make lock`
# (python -m components.lock, docs/upstream.md) from real renders only: a part that is not
# here is rendered and reported as new, a part whose render differs is an error.
"""

RENDER_TYPES = {
    "kustomize": "kubernetes:kustomize/v2:Directory",
    "file": "kubernetes:yaml/v2:ConfigFile",
    "helm": "kubernetes:helm.sh/v4:Chart",
}
"""The provider-side resource each kind of part was rendered by before (stacks made then)."""
PROVIDER_DEFAULT_NAMESPACE = "default"
"""The namespace the provider gave namespaced objects a kustomization or release file left
without one (the kubeconfig context's, when it names one: see docs/upgrade.md)."""

LockData = dict[str, dict[str, dict[str, dict[str, Any]]]]
"""project -> version -> part -> entry (reference, digest, objects, rendered_by)."""


@dataclass(frozen=True)
class Checked:
    """A part's objects, and a note when the lock has no digest for them yet."""

    objects: list[KubeObject]
    note: str | None = None


@dataclass(frozen=True)
class UpstreamSource:
    """Render each part's pinned reference (cached), checked against a lock file."""

    lock_file: Path = LOCK_FILE
    """The lock renders are checked against: the repository's, or a user's own."""
    cache: Path | None = None
    """Where renders are cached; None: $KUBEFLOW_RENDER_CACHE or
    ~/.cache/kubeflow-pulumi/renders."""

    def load(self, component: str, version: str, part: ManifestPart) -> list[KubeObject]:
        """The objects of one part (none for a mirror-only part: a later part renders them)."""
        return self.check(component, version, part).objects

    def check(self, component: str, version: str, part: ManifestPart) -> Checked:
        """One part rendered and checked: an error when its digest is not the lock's."""
        if not part.upstream:
            return Checked([])
        entry = lock_entry(self.lock_file, component, version, part.name)
        rendered = render(Reference.of(part), self.cache or cache_dir())
        note_use(rendered, component, version, part.name)
        if entry is None:
            return Checked(
                rendered.objects, new_note(self.lock_file, component, version, part.name, rendered)
            )
        problem = mismatch(self.lock_file, component, version, part.name, entry, rendered)
        if problem:
            raise ManifestError(problem)
        return Checked(rendered.objects)


Loaded = list[tuple[ManifestPart, list[KubeObject], str | None]]
"""Each part of an install with its objects, and the note of a render the lock has no digest
for yet (`Checked.note`; the install reports it)."""
LoadKey = tuple[str, str, tuple[ManifestPart, ...]]
"""What a load depends on beside its source: the upstream project, version and parts."""
_HELD: dict[int, dict[LoadKey, Loaded]] = {}
"""By source object: what checks loaded from it (`load_parts`), until their installs take it."""


def load_parts(
    source: ManifestSource,
    folder: str,
    version: str,
    parts: tuple[ManifestPart, ...],
    *,
    take: bool,
) -> Loaded:
    """The objects of `parts` of `folder` (the upstream project) at `version`, from any source,
    read or rendered once: a component's check (`take` false) holds what it loaded for the
    install from the same source object, which takes it (`take`). Keyed by all the objects
    depend on, so settings that install the same parts reuse them (the platform's args for a
    component are not the ones a stack's settings were checked with) and no others do."""
    key = (folder, version, parts)
    held = _HELD.get(id(source), {})
    found = held.pop(key, None) if take else held.get(key)
    if found is not None:
        return found
    loaded: Loaded = []
    for part in parts:
        if isinstance(source, UpstreamSource):
            checked = source.check(folder, version, part)
        else:
            checked = Checked(source.load(folder, version, part))
        loaded.append((part, checked.objects, checked.note))
    if not take:
        _hold(source, key, loaded)
    return loaded


def _hold(source: ManifestSource, key: LoadKey, loaded: Loaded) -> None:
    """Keep `loaded` until it is taken or `source` goes, so a stack's run leaves nothing
    behind. Per source object, not per equal one: two sources with the same fields may read
    files that changed in between (another run, another test). A source that takes no weak
    reference holds nothing: its install loads again."""
    if id(source) not in _HELD:
        try:
            weakref.finalize(source, _HELD.pop, id(source), None)
        except TypeError:
            return
        _HELD[id(source)] = {}
    _HELD[id(source)][key] = loaded


def lock_entry(path: Path, component: str, version: str, part: str) -> Mapping[str, Any] | None:
    """The lock's entry for one part, if it has one."""
    return read_lock(path).get(component, {}).get(version, {}).get(part)


def read_lock(path: Path) -> LockData:
    """The lock file's entries (none when it does not exist yet)."""
    if not path.is_file():
        return {}
    stat = path.stat()
    return _parsed_lock(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _parsed_lock(path: Path, mtime_ns: int, size: int) -> LockData:
    """The lock at one modification (read once per process while it does not change)."""
    data: Any = {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problems = [f"not YAML ({error})"]
    else:
        problems = lock_problems(data)
    if problems:
        more = f"; and {len(problems) - 3} more" if problems[3:] else ""
        shown = "; ".join(problems[:3]) + more
        raise ManifestError(
            f"{path}: not a lock of renders: {shown}; fix: restore the file from version "
            f"control (the repository's: git checkout -- {path}), or delete the entries at "
            f"fault (or the file) and record those parts again with {LOCK_COMMAND}"
        )
    return cast(LockData, data)


LOCK_ENTRY_FIELDS = {"reference": dict, "digest": str, "objects": int, "rendered_by": str}
"""Each entry's fields and their types (`lock_record`)."""


def lock_problems(data: Any) -> list[str]:
    """Where a lock's contents are not project -> version -> part -> entry (`entry_problems`)."""
    if not isinstance(data, dict):
        return ["not a mapping of projects"]
    problems = []
    for project, versions in data.items():
        if not isinstance(versions, dict):
            problems.append(f"{project}: not a mapping of versions")
            continue
        for version, parts in versions.items():
            if not isinstance(parts, dict):
                problems.append(f"{project} {version}: not a mapping of parts")
                continue
            for part, entry in parts.items():
                problems += entry_problems(f"{project} {version} {part}", entry)
    return problems


def entry_problems(where: str, entry: Any) -> list[str]:
    """Where one entry is not the record of a render (`lock_record`): a reference, a SHA-256
    digest of its objects, how many there are and what rendered them."""
    if not isinstance(entry, dict):
        return [f"{where}: not an entry ({', '.join(LOCK_ENTRY_FIELDS)})"]
    problems = [
        f"{where}: {field} is not a {kind.__name__}"
        for field, kind in LOCK_ENTRY_FIELDS.items()
        if not isinstance(entry.get(field), kind) or isinstance(entry[field], bool)
    ]
    digest = entry.get("digest")
    if isinstance(digest, str) and not digest.startswith("sha256:"):
        problems.append(f"{where}: digest is not a sha256: digest")
    return problems


def write_lock(path: Path, data: LockData) -> None:
    """Write the lock, sorted, under its header."""
    body = yaml.safe_dump(data, sort_keys=True, default_flow_style=False, width=200)
    path.write_text(LOCK_HEADER + (body if data else "{}\n"), encoding="utf-8")


def lock_record(rendered: Render) -> dict[str, Any]:
    """The lock entry of a render."""
    return {
        "reference": rendered.reference.as_dict(),
        "digest": rendered.digest,
        "objects": len(rendered.objects),
        "rendered_by": rendered.rendered_by,
    }


def new_note(lock: Path, component: str, version: str, part: str, rendered: Render) -> str:
    """The report of a render the lock has no digest for."""
    return (
        f"{component} {version}, part {part}: new, {_what(rendered)}; {lock} records no digest "
        f"for it yet. Review the render ({rendered.path or rendered.reference.location}), then "
        f"record it: {LOCK_COMMAND}"
    )


def mismatch(
    lock: Path,
    component: str,
    version: str,
    part: str,
    entry: Mapping[str, Any],
    rendered: Render,
) -> str | None:
    """Why a render is not the one the lock recorded for the part, or None when it is."""
    where = f"{component} {version}, part {part}"
    if entry.get("reference") != rendered.reference.as_dict():
        return (
            f"{where}: the version table pins {rendered.reference.describe()}, but {lock} "
            f"records {entry.get('reference')} for this part; fix: review the render "
            f"({rendered.path or rendered.reference.location}), then record it: {LOCK_COMMAND}"
        )
    if entry.get("digest") == rendered.digest:
        return None
    cached = (
        f"; a render cached before the lock was updated goes away with "
        f"`rm -r {rendered.path.parent}`"
        if rendered.path
        else ""
    )
    return (
        f"{where}: {_what(rendered)}, but {lock} records {entry.get('objects')} objects "
        f"({entry.get('digest')}, {entry.get('rendered_by')}): the pinned upstream is not what "
        f"was locked (a moved tag, or another renderer); fix: review the render "
        f"({rendered.path or rendered.reference.location}) and, if it is right, record it: "
        f"{LOCK_COMMAND}; else pin another version{cached}"
    )


def _what(rendered: Render) -> str:
    return (
        f"{rendered.reference.describe()} renders {len(rendered.objects)} objects "
        f"({rendered.digest}, {rendered.rendered_by})"
    )


def render_urn(
    component_urn: pulumi.Output[str], part: ManifestPart, name: str
) -> pulumi.Output[str]:
    """The URN the provider-side render of `part` had under the component (stacks made before
    this version rendered each part as a Directory, ConfigFile or Chart named
    `<component>-<part>`)."""
    return child_urn(component_urn, RENDER_TYPES[part.upstream_kind], f"{name}-{part.name}")


def render_alias(
    part: ManifestPart,
    raw: KubeObject,
    name: str,
    namespace: str,
    render: pulumi.Output[str],
    type_: str,
) -> pulumi.Output[str]:
    """The URN an upstream object of type `type_` had as a child of its part's provider-side
    render (URN `render`): named `<component>-<part>:<namespace>/<name>` with the namespace
    as rendered, before the component's transforms. A namespaced object rendered without one
    had the provider's default namespace, or a chart's release namespace, which was the
    component's."""
    metadata = raw.get("metadata") or {}
    rendered_in = str(metadata.get("namespace") or "")
    namespaced = raw.get("kind") not in CLUSTER_SCOPED_KINDS
    if part.upstream_kind == "helm" and (rendered_in == part.namespace or not rendered_in):
        rendered_in = namespace if rendered_in or namespaced else ""
    elif not rendered_in and namespaced:
        rendered_in = PROVIDER_DEFAULT_NAMESPACE
    prefix = f"{name}-{part.name}:"
    old = (
        f"{prefix}{rendered_in}/{metadata.get('name')}"
        if rendered_in
        else f"{prefix}{metadata.get('name')}"
    )
    return child_urn(render, type_, old)
