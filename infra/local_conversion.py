"""CRD conversion on the simulated cluster, where no pod serves a conversion webhook.

A CRD's conversion webhook has no failure policy: every read of an object stored at another
version would fail. So on the local cluster such a CRD converts with strategy `None` (only
the apiVersion changes). The API server also converts an object to the version of each of
its managedFields entries (an apply made at an earlier version), so each version but the
stored one must accept the stored version's fields: it gets the union of its own schema and
the stored one's (`union_schema`). The union keeps both schemas' structure, list types and
map keys, so server-side apply still knows which list items a manager owned at the earlier
version, and drops the fields the new apply leaves out (a permissive schema would not: the
items it kept became nobody's, as the 26.03 -> 26.03.1 e2e found in KServe's
LLMInferenceServiceConfigs).
"""

from __future__ import annotations

from typing import Any

LOOSENED = ("required", "x-kubernetes-validations", "enum")
"""Keywords the union does not take from either schema as they are: what one version restricts or
checks may not hold for an object of the other (this schema only converts; the stored one
validates). A field stays required where both versions require it: the API server wants
the keys of a map-type list required (or defaulted)."""


def union_schema(own: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """A structural schema that declares every field of `stored` and of `own`: properties,
    items and additionalProperties merged, `stored`'s other keywords first. Where the two
    give a field different types, or one a map (additionalProperties) and the other fields
    (properties), which a schema cannot be both, `stored`'s node is taken as it is: what
    this version must accept is an object of the stored version (a real webhook would
    convert the field; KServe's `pool.spec.selector` is a label map at v1alpha1 and has
    `matchLabels` at v1alpha2)."""
    if own.get("type") != stored.get("type"):
        return stored
    if {"properties", "additionalProperties"} <= {*own, *stored} and not (
        "properties" in own and "properties" in stored
    ):
        return stored
    out = {k: v for k, v in {**own, **stored}.items() if k not in LOOSENED}
    required = [r for r in stored.get("required") or [] if r in (own.get("required") or [])]
    if required:
        out["required"] = required
    ours, theirs = own.get("properties") or {}, stored.get("properties") or {}
    if ours or theirs:
        out["properties"] = {
            name: union_schema(ours[name], theirs[name])
            if name in ours and name in theirs
            else theirs.get(name, ours.get(name))
            for name in {**ours, **theirs}
        }
    for key in ("items", "additionalProperties"):
        if isinstance(own.get(key), dict) and isinstance(stored.get(key), dict):
            out[key] = union_schema(own[key], stored[key])
    return out


def without_conversion_webhook(crd: dict[str, Any]) -> dict[str, Any]:
    """`crd` converting with strategy None, each version but the stored one taking the
    stored one's fields too; a CRD without a conversion webhook is returned as it is."""
    spec = crd.get("spec") or {}
    if (spec.get("conversion") or {}).get("strategy") != "Webhook":
        return crd
    versions = spec.get("versions") or []
    stored = [v for v in versions if v.get("storage")]
    if not stored:
        return crd  # not a valid CRD: the API server will say so
    stored_schema = (stored[0].get("schema") or {}).get("openAPIV3Schema") or {}

    def converting(version: dict[str, Any]) -> dict[str, Any]:
        if version.get("storage"):
            return version
        own = (version.get("schema") or {}).get("openAPIV3Schema") or {}
        return {**version, "schema": {"openAPIV3Schema": union_schema(own, stored_schema)}}

    converted = [converting(v) for v in versions]
    return {**crd, "spec": {**spec, "conversion": {"strategy": "None"}, "versions": converted}}
