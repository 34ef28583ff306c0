"""Record what pinned upstream parts render to: `make lock` (docs/upstream.md).

    python -m components.lock                       # the renders a preview made (cached)
    python -m components.lock --stack prod          # every part a stack installs
    python -m components.lock --component kserve --version v0.18.0
    python -m components.lock --component training-operator --setting mode=trainer
    python -m components.lock --check --stack prod  # compare only; exit 1 if not locked

Each part is rendered (from the render cache when it holds the reference, unless
`--refresh`), compared with the lock and reported as `unchanged`, `new` or `changed`; new
and changed digests are written to the lock (`--lock FILE`: a lock of the user's own, as
`UpstreamSource(lock_file=FILE)` reads it). Run it after reviewing the renders it names:
the lock is what a later render of the same pinned reference must match.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.catalog import CATALOG
from components.manifests import ManifestError
from components.render import Reference, Render, cache_dir, cached_renders, note_use, render
from components.upstream import LOCK_FILE, UpstreamSource, lock_record, read_lock, write_lock
from infra.config import decode, load_settings

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Wanted:
    """A part to lock: its upstream project, version, name and reference."""

    component: str
    version: str
    part: str
    reference: Reference


def main(argv: Sequence[str] | None = None) -> int:
    """Lock the parts the arguments name; 0 when done, 1 when `--check` finds a part not
    locked, 2 when a part cannot be rendered or the arguments are wrong."""
    options = _parser().parse_args(argv)
    cache = options.cache or cache_dir()
    try:
        lock = copy.deepcopy(read_lock(options.lock))
        wanted = list(_wanted(options, cache))
    except (ManifestError, ValueError, KeyError) as error:
        print(f"lock: {error}", file=sys.stderr)
        return 2
    changed, failed = 0, 0
    for item in wanted:
        try:
            rendered = render(item.reference, cache, refresh=options.refresh)
        except ManifestError as error:
            print(f"{item.component} {item.version} {item.part}: cannot render: {error}")
            failed += 1
            continue
        note_use(rendered, item.component, item.version, item.part)
        status = _status(lock, item, rendered)
        print(f"{item.component} {item.version} {item.part}: {status}")
        if status != "unchanged":
            changed += 1
            lock.setdefault(item.component, {}).setdefault(item.version, {})[item.part] = (
                lock_record(rendered)
            )
    if not wanted:
        print("lock: nothing to lock (no cached render, and no --stack or --component)")
    if changed and not options.check:
        write_lock(options.lock, lock)
        print(f"lock: recorded {changed} part(s) in {options.lock}")
    if failed:
        return 2
    return 1 if options.check and changed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m components.lock",
        description="Record the digests of what pinned upstream parts render to.",
    )
    parser.add_argument("--stack", action="append", default=[], help="every part STACK installs")
    parser.add_argument("--component", help="a catalog id (e.g. pipelines): its parts")
    parser.add_argument("--version", help="with --component: this version (default: every one)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --component: a setting that picks parts (e.g. database=postgres)",
    )
    parser.add_argument("--lock", type=Path, default=LOCK_FILE, help="the lock file to update")
    parser.add_argument("--cache", type=Path, help="the render cache (default: the usual one)")
    parser.add_argument("--refresh", action="store_true", help="render again, ignoring the cache")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if not locked")
    return parser


def _wanted(options: argparse.Namespace, cache: Path) -> Iterator[Wanted]:
    """The parts the options name; without --stack or --component, the cached renders that
    a preview made, with the part each was made for."""
    for stack in options.stack:
        for args, cls in _stack_components(stack):
            yield from _parts(cls, args)
    if options.component:
        entry = CATALOG[options.component]
        settings = dict(_setting(s) for s in options.setting)
        versions = [options.version] if options.version else list(entry.cls.VERSIONS)
        for version in versions:
            args = entry.args_cls(version=version, **settings)
            problems = entry.cls.check(args)
            if problems and not options.version:
                continue  # a version of another mode
            if problems:
                raise ValueError("; ".join(problems))
            yield from _parts(entry.cls, args)
    if not options.stack and not options.component:
        for rendered, use in cached_renders(cache):
            if use:
                yield Wanted(use["component"], use["version"], use["part"], rendered.reference)


def _parts(cls: type[KubeflowComponent], args: ComponentArgs) -> Iterator[Wanted]:
    folder, version, parts = cls.planned_parts(args, UpstreamSource())
    for part in parts:
        if part.upstream:
            yield Wanted(folder, version, part.name, Reference.of(part))


def _stack_components(stack: str) -> Iterator[tuple[ComponentArgs, type[KubeflowComponent]]]:
    """The upstream-sourced components of a stack of this project, with their settings (as
    the program reads them: Pulumi.yaml's defaults, then the stack file)."""
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    stack_file = REPO / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ValueError(f"no stack {stack!r}: {stack_file} does not exist")
    values: dict[str, Any] = {
        key: spec["default"] for key, spec in project["config"].items() if "default" in spec
    }
    config = (yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}).get("config") or {}
    values |= {
        k.removeprefix("kubeflow:"): v for k, v in config.items() if k.startswith("kubeflow:")
    }
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    settings = load_settings(decode(raw), stack=stack, project_dir=REPO)
    for component_id, args in settings.component_args.items():
        if isinstance(args.source, UpstreamSource):
            yield args, CATALOG[component_id].cls


def _setting(text: str) -> tuple[str, Any]:
    key, equals, value = text.partition("=")
    if not equals:
        raise ValueError(f"--setting {text!r} is not KEY=VALUE")
    return key.replace("-", "_"), yaml.safe_load(value)


def _status(lock: dict[str, Any], item: Wanted, rendered: Render) -> str:
    entry = lock.get(item.component, {}).get(item.version, {}).get(item.part)
    if entry is None:
        return f"new, {len(rendered.objects)} objects ({rendered.digest})"
    if entry.get("digest") == rendered.digest and entry.get("reference") == (
        rendered.reference.as_dict()
    ):
        return "unchanged"
    return (
        f"changed, {entry.get('objects')} -> {len(rendered.objects)} objects "
        f"({entry.get('digest')} -> {rendered.digest}, {rendered.rendered_by})"
    )


if __name__ == "__main__":
    sys.exit(main())
