"""Real mirror objects for component tests: parsed once, or cut down to a small mirror.

The largest mirror files (1-3.5 MB of CRDs) take seconds to parse and to push through the
mocks. Each test module installs a component from the full mirror once (`cached_loads`);
settings are tested on a small mirror holding only the real objects they concern.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import manifests
from components.manifests import KubeObject, MirrorSource, load_objects
from components.objects import install_tier
from tests.paths import MIRROR
from tests.unit.mocks import Recorder, Registered, transitively

_parse = functools.cache(load_objects)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def mirror_objects(folder: str, version: str, file: str) -> list[KubeObject]:
    """The objects of one mirror file, parsed once per process: read them, do not change them."""
    return _parse(MIRROR / folder / version / file)


@contextmanager
def cached_loads() -> Iterator[None]:
    """Let components read mirror files from the parse cache (transforms never mutate)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifests, "load_objects", _parse)
        yield


def small_mirror(
    root: Path,
    folder: str,
    version: str,
    files: tuple[str, ...],
    keep: Callable[[KubeObject], bool],
    edit: Callable[[KubeObject], KubeObject] = lambda obj: obj,
) -> MirrorSource:
    """A mirror under `root` with `files` of `<folder>/<version>`, holding only the real
    objects `keep` selects, each passed through `edit`."""
    target = root / folder / version
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        kept = [edit(copy.deepcopy(o)) for o in mirror_objects(folder, version, file) if keep(o)]
        (target / file).write_text(yaml.dump_all(kept, Dumper=_DUMPER), encoding="utf-8")
    return MirrorSource(root)


def named(kind: str, *names: str) -> Callable[[KubeObject], bool]:
    """Selects the objects of `kind` with one of `names` (any name when none given)."""
    return lambda obj: obj["kind"] == kind and (not names or obj["metadata"]["name"] in names)


def any_of(*selectors: Callable[[KubeObject], bool]) -> Callable[[KubeObject], bool]:
    """Selects what any of `selectors` selects."""
    return lambda obj: any(select(obj) for select in selectors)


def part_of(resource: Registered, component: str) -> str:
    """The part a mirror object was registered in: its first alias, the name resource names
    had when they carried the part (`<component>-<part>:<ns>/<name>`)."""
    return resource.aliases[0].partition(":")[0].removeprefix(f"{component}-")


RUNS_NOTHING = frozenset(
    {
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        "Service",
        "PersistentVolumeClaim",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "NetworkPolicy",
    }
)
"""Built-in kinds that run no code: they need no CRD and are applied before the CRDs."""


def waits_for(resources: list[Registered]) -> dict[str, set[str]]:
    """Each resource's URN -> the URNs of `resources` it waits for, directly or through
    others."""
    urns = {r.urn for r in resources}
    return transitively({r.urn: [d for d in r.dependencies if d in urns] for r in resources})


def order_problems(recorder: Recorder, component: str, parts: list[str]) -> list[str]:
    """Every pair the install order gets wrong across the component's `parts`: each object
    waits for every object of a lower tier, whatever part it came from, and for none of its
    own tier or a higher one; and it names only the objects of the last lower tier that has
    any (the rest it waits for through them), so the state records each dependency once. A
    part that registered nothing is a problem too (else a wrong part name would check
    nothing)."""
    objects = [
        r
        for r in recorder.registered
        if ":" in r.name and "kind" in r.inputs and part_of(r, component) in parts
    ]
    present = {part_of(r, component) for r in objects}
    problems = [f"part {part!r} registered no object" for part in parts if part not in present]
    before = waits_for(objects)
    urns = {r.urn for r in objects}
    tiers: dict[int, set[str]] = {}
    for r in objects:
        tiers.setdefault(install_tier(r.inputs), set()).add(r.urn)
    for resource in objects:
        tier = install_tier(resource.inputs)
        lower_tiers = [t for t in tiers if t < tier]
        named = {d for d in resource.dependencies if d in urns}
        if named != (tiers[max(lower_tiers)] if lower_tiers else set()):
            problems.append(f"{resource.name} names {len(named)} objects as what it waits for")
        for other in objects:
            lower, waits = install_tier(other.inputs) < tier, other.urn in before[resource.urn]
            if lower and not waits:
                problems.append(f"{resource.name} does not wait for {other.name}")
            elif waits and not lower:
                problems.append(f"{resource.name} waits for {other.name} (not a lower tier)")
    return problems


def without_crd_schemas(obj: KubeObject) -> KubeObject:
    """A CRD with its version schemas left out: megabytes the mocks would copy four times
    and that no unit test reads (how the unit tests' mirror and renders give CRDs:
    conftest.py). Anything else, and a CRD without versions, as it is."""
    spec = obj.get("spec") or {}
    if obj["kind"] != "CustomResourceDefinition" or "versions" not in spec:
        return obj
    versions = [{k: v for k, v in version.items() if k != "schema"} for version in spec["versions"]]
    return {**obj, "spec": {**spec, "versions": versions}}


def schema_descriptions(obj: KubeObject) -> int:
    """How many field descriptions (string-valued `description` keys: a property may be
    named `description`) the versions' schemas of `obj` hold, if it is a CRD; else 0."""
    if obj.get("kind") != "CustomResourceDefinition":
        return 0
    return _descriptions([v.get("schema") for v in (obj.get("spec") or {}).get("versions") or []])


def _descriptions(value: Any) -> int:
    """How many string-valued `description` keys `value` holds, anywhere."""
    if isinstance(value, dict):
        own = isinstance(value.get("description"), str)
        return own + sum(_descriptions(v) for v in value.values())
    if isinstance(value, list):
        return sum(_descriptions(v) for v in value)
    return 0


_IMAGE = re.compile(r"""image\\?["']?\s*:\s*\\?["']?([\w./:@-]+)""")


def images_in(obj: KubeObject) -> list[str]:
    """Every image an object names: in containers, custom resources, JSON and YAML text."""
    return _IMAGE.findall(json.dumps(obj))
