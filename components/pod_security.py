"""The Pod Security Standards level of each component's namespaces (data/pod_security.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

POD_SECURITY_FILE = Path(__file__).with_name("data") / "pod_security.yaml"
LEVELS = ("privileged", "baseline", "restricted")


@dataclass(frozen=True)
class NamespaceLevel:
    """The level a component's namespaces enforce, and why not stricter."""

    level: str
    reason: str


@cache
def pod_security_levels() -> dict[str, NamespaceLevel]:
    """Upstream project (mirror folder) -> the level its namespaces enforce."""
    with POD_SECURITY_FILE.open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    levels = {
        str(project): NamespaceLevel(str(entry["level"]), " ".join(str(entry["reason"]).split()))
        for project, entry in data.items()
    }
    unknown = {p: n.level for p, n in levels.items() if n.level not in LEVELS}
    if unknown:
        raise ValueError(f"{POD_SECURITY_FILE}: unknown levels {unknown}; use one of {LEVELS}")
    return levels


def pod_security_level(project: str) -> str:
    """The level `project`'s namespaces enforce; restricted for a project not listed."""
    found = pod_security_levels().get(project)
    return found.level if found else "restricted"
