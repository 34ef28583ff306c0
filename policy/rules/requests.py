"""container-requests: every container requests CPU and memory (advisory by default)."""

from __future__ import annotations

from .model import KubeObject, Settings, Violation, catalog, containers, describe

POLICY = "container-requests"


def check(obj: KubeObject, settings: Settings) -> list[Violation]:
    """A violation per container that lacks a CPU or a memory request."""
    out = []
    for path, container in containers(obj):
        requests = (container.get("resources") or {}).get("requests") or {}
        missing = [r for r in ("cpu", "memory") if r not in requests]
        if missing:
            out.append(
                Violation(
                    f"{describe(obj)}: {path} ({container.get('name', '?')}) requests no "
                    f"{' and no '.join(missing)}",
                    catalog()[POLICY]["fix"],
                )
            )
    return out
