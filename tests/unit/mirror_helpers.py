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

import pytest
import yaml

from components import manifests
from components.manifests import KubeObject, MirrorSource, load_objects
from components.objects import install_tier
from tests.unit.mocks import MIRROR, Recorder, Registered

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


def order_problems(recorder: Recorder, component: str, parts: list[str]) -> list[str]:
    """Every pair the install order gets wrong: within a part each object waits for every
    object of a lower tier; each part waits for every object of the part before it. A part
    that registered nothing is a problem too (else a wrong part name would check nothing)."""
    objects = [r for r in recorder.registered if ":" in r.name and "kind" in r.inputs]
    by_part: dict[str, list[Registered]] = {part: [] for part in parts}
    for resource in objects:
        if part_of(resource, component) in by_part:
            by_part[part_of(resource, component)].append(resource)
    problems = [f"part {part!r} registered no object" for part in parts if not by_part[part]]
    for index, part in enumerate(parts):
        before = by_part[parts[index - 1]] if index else []
        for resource in by_part[part]:
            tier = install_tier(resource.inputs)
            waits_for = [r for r in by_part[part] if install_tier(r.inputs) < tier] + before
            problems += [
                f"{resource.name} does not wait for {r.name}"
                for r in waits_for
                if r.urn not in resource.dependencies
            ]
    return problems


def without_crd_schemas(obj: KubeObject) -> KubeObject:
    """A CRD with its version schemas left out: megabytes the mocks would copy four times
    and that no test here reads (a transform, as a user would pass one)."""
    if obj["kind"] != "CustomResourceDefinition":
        return obj
    versions = [
        {k: v for k, v in version.items() if k != "schema"} for version in obj["spec"]["versions"]
    ]
    return {**obj, "spec": {**obj["spec"], "versions": versions}}


_IMAGE = re.compile(r"""image\\?["']?\s*:\s*\\?["']?([\w./:@-]+)""")


def images_in(obj: KubeObject) -> list[str]:
    """Every image an object names: in containers, custom resources, JSON and YAML text."""
    return _IMAGE.findall(json.dumps(obj))
