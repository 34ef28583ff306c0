"""Where the repository and the shared mirror of upstream renders are, for every suite."""

from __future__ import annotations

from pathlib import Path

from components.manifests import KubeObject, load_objects

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "manifests"
"""The shared mirror of upstream renders beside the repository (read in place, never copied)."""
KFP_MIRROR = MIRROR / "kfp" / "2.15.0"
"""The KFP render the tests compare installs with: 2.15.0, the KFP API server the local stack
runs."""


def kfp_objects() -> list[KubeObject]:
    """Every object of the KFP 2.15.0 render, its cluster-scoped file first."""
    return [
        *load_objects(KFP_MIRROR / "cluster-scoped.yaml"),
        *load_objects(KFP_MIRROR / "platform-agnostic.yaml"),
    ]
