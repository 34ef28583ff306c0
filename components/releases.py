"""Kubeflow release presets: one release name -> the version of every upstream project.

The table is data (`data/releases.yaml`), keyed by the upstream project as the manifest
mirror names its folders, so the Training Operator finds `training-operator` or `trainer`
by its mode. A component's own `version` wins over its release's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

RELEASES_FILE = Path(__file__).with_name("data") / "releases.yaml"


@dataclass(frozen=True)
class Release:
    """One Kubeflow release."""

    name: str
    manifests_tag: str
    """The kubeflow/manifests (community distribution) tag that vendors some components."""
    versions: Mapping[str, str]
    """Upstream project (mirror folder) -> version."""
    deviations: Mapping[str, str]
    """Upstream project -> why its version differs from the release's own table."""


@cache
def releases() -> dict[str, Release]:
    """Every known release by name, in file order."""
    with RELEASES_FILE.open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    return {
        str(name): Release(
            name=str(name),
            manifests_tag=str(entry["manifests_tag"]),
            versions={str(k): str(v) for k, v in entry["versions"].items()},
            deviations={str(k): str(v) for k, v in (entry.get("deviations") or {}).items()},
        )
        for name, entry in data.items()
        if name != "downgrade_barriers"
    }


@cache
def downgrade_barriers() -> dict[str, dict[str, str]]:
    """Upstream project -> version -> why no older version can follow it."""
    with RELEASES_FILE.open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    return {
        str(project): {str(v): str(reason) for v, reason in versions.items()}
        for project, versions in (data.get("downgrade_barriers") or {}).items()
    }


def release_error(name: object) -> str | None:
    """The problem with a release name, or None when it is a known release."""
    if isinstance(name, str) and name in releases():
        return None
    return (
        f"release {name!r} is not a known Kubeflow release; fix: use one of "
        f"{', '.join(releases())}, or unset it and set each component's version"
    )


def release_version(name: str, project: str) -> str | None:
    """The version release `name` installs of `project` (None: the release has none)."""
    return releases()[name].versions.get(project)


def manifests_tag(version: str, project: str) -> str | None:
    """The community-distribution tag of the newest release that installs `project` at
    `version` (the tag that vendors it), or None when no release does."""
    tags = [r.manifests_tag for r in releases().values() if r.versions.get(project) == version]
    return tags[-1] if tags else None


def downgrade_problem(project: str, old: str, new: str) -> str | None:
    """Why `project` cannot go from `old` back to `new`, or None when it can (or it is not
    a downgrade). Versions compare as their dotted numbers."""
    barrier = downgrade_barriers().get(project, {})
    reasons = [
        reason
        for version, reason in barrier.items()
        if _numbers(new) < _numbers(version) <= _numbers(old)
    ]
    if not reasons:
        return None
    return (
        f"{project} cannot go back from {old} to {new}: {reasons[0]}; fix: keep {old} (or a "
        "newer version), or remove the component and its data first"
    )


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split(".") if part.isdigit())
