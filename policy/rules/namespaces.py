"""namespace-pod-security: every Namespace the platform creates has a pod-security label."""

from __future__ import annotations

from .model import KubeObject, Settings, Violation, catalog, describe

POLICY = "namespace-pod-security"
LEVELS = ("privileged", "baseline", "restricted")
MODES = ("enforce", "audit", "warn")
PREFIX = "pod-security.kubernetes.io/"


def check(obj: KubeObject, settings: Settings) -> list[Violation]:
    """A violation when a Namespace has no valid `enforce` level, or any pod-security mode
    label has a value Kubernetes does not know. Namespace patches (labels added to a namespace
    someone else creates) are not checked: the platform does not create those."""
    if obj.get("kind") != "Namespace":
        return []
    labels = (obj.get("metadata") or {}).get("labels") or {}
    fix = catalog()[POLICY]["fix"]
    out = []
    if f"{PREFIX}enforce" not in labels:
        out.append(Violation(f"{describe(obj)} has no {PREFIX}enforce label", fix))
    for mode in MODES:
        value = labels.get(f"{PREFIX}{mode}")
        if value is not None and value not in LEVELS:
            out.append(
                Violation(
                    f"{describe(obj)}: {PREFIX}{mode}={value!r} is not one of {', '.join(LEVELS)}",
                    fix,
                )
            )
    return out
