"""secret-data-encrypted: every Secret's data is marked secret in the resource's inputs."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .model import KubeObject, Settings, Violation, catalog, describe

POLICY = "secret-data-encrypted"
DATA_KEYS = ("data", "stringData")


def check(obj: KubeObject, settings: Settings, secret_inputs: Collection[str]) -> list[Violation]:
    """A violation per non-empty data/stringData of a core Secret that is not among
    `secret_inputs`, the top-level input properties the engine sent as secrets."""
    if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1":
        return []
    return [
        Violation(
            f"{describe(obj)}: {key} ({', '.join(sorted(obj[key]))}) is plain text in the "
            "resource's inputs, so the state would hold it unencrypted",
            catalog()[POLICY]["fix"],
        )
        for key in DATA_KEYS
        if obj.get(key) and key not in secret_inputs
    ]


# How the engine sends a secret value to an analyzer (the resource properties wire format).
SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def _is_secret(value: object) -> bool:
    key, sig = SECRET_SIGNATURE
    return isinstance(value, dict) and value.get(key) == sig


def secret_inputs(wire_properties: Mapping[str, Any]) -> set[str]:
    """The top-level properties that are secret in a resource's wire-format inputs: the value
    is a secret, or a non-empty map whose every value is one. (The Python policy SDK hands
    policies the plain values, so the pack reads this before it deserializes them.)"""
    out = set()
    for key, value in wire_properties.items():
        if _is_secret(value) or (
            isinstance(value, dict) and value and all(_is_secret(v) for v in value.values())
        ):
            out.add(key)
    return out
