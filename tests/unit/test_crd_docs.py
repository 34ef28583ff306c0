"""CRDs install without the field descriptions of their schemas unless a stack keeps them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.crd_docs import without_descriptions
from infra.config import ConfigError
from tests.unit.mirror_helpers import schema_descriptions
from tests.unit.mocks import run_stack

CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def crd(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD of one version with `schema` and a described printer column."""
    column = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "additionalPrinterColumns": [{**column, "description": "Time since creation."}],
        "schema": {"openAPIV3Schema": schema},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "versions": [version]},
    }


def test_every_schema_node_loses_its_description_and_nothing_else_changes() -> None:
    described = {
        "type": "object",
        "description": "A widget.",
        "properties": {
            "description": {"type": "string", "description": "A field named description."},
            "spec": {
                "type": "object",
                "description": "What the widget should be.",
                "default": {"description": "a default value is data"},
                "x-kubernetes-validations": [{"rule": "self.size > 0", "message": "empty"}],
                "properties": {
                    "ports": {
                        "type": "array",
                        "description": "Ports.",
                        "items": {
                            "type": "object",
                            "description": "One port.",
                            "properties": {"port": {"type": "integer", "description": "It."}},
                        },
                    },
                    "labels": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "description": "A label."},
                    },
                    "mode": {
                        "anyOf": [
                            {"type": "integer", "description": "A number."},
                            {"type": "string"},
                        ],
                        "x-kubernetes-int-or-string": True,
                        "description": "Either.",
                    },
                },
            },
        },
    }
    expected = {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "spec": {
                "type": "object",
                "default": {"description": "a default value is data"},
                "x-kubernetes-validations": [{"rule": "self.size > 0", "message": "empty"}],
                "properties": {
                    "ports": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"port": {"type": "integer"}}},
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "mode": {
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                        "x-kubernetes-int-or-string": True,
                    },
                },
            },
        },
    }
    assert without_descriptions(crd(described)) == crd(expected)  # the column keeps its own
    other = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"description": "kept"}}
    assert without_descriptions(other) is other


DOCUMENTED = {"type": "string", "description": "Documented."}
PLACES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "not": lambda s: {"not": s},
    "allOf": lambda s: {"allOf": [s, {"minLength": 1}]},
    "oneOf": lambda s: {"oneOf": [s, {"type": "integer"}]},
    "patternProperties": lambda s: {"patternProperties": {"^x-": s}},
    "definitions": lambda s: {"definitions": {"name": s}},
    "dependencies": lambda s: {"dependencies": {"a": s, "b": ["a"]}},
    "items list, additionalItems": lambda s: {"items": [s, s], "additionalItems": s},
    "additionalProperties false": lambda s: {
        "additionalProperties": False,
        "properties": {"a": {"type": "array", "items": s}},
    },
}
"""Every place a JSONSchemaProps holds schemas, around one that has a description."""


@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_a_schema_anywhere_loses_its_description(
    place: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    bare = {"type": "string"}
    assert without_descriptions(crd(place(DOCUMENTED))) == crd(place(bare))


def test_a_version_without_a_schema_stays_as_it_is() -> None:
    schemaless = crd({})
    schemaless["spec"]["versions"][0]["schema"] = {}
    assert without_descriptions(schemaless) == schemaless


def undescribed(value: Any) -> Any:
    """`value` without any string-valued `description` key (what KFP's CRD schemas, which
    hold no such key as data, should become)."""
    if isinstance(value, dict):
        return {
            k: undescribed(v)
            for k, v in value.items()
            if not (k == "description" and isinstance(v, str))
        }
    if isinstance(value, list):
        return [undescribed(v) for v in value]
    return value


def with_undescribed_schemas(crd: dict[str, Any]) -> dict[str, Any]:
    """`crd` with its versions' schemas `undescribed` (printer columns keep theirs)."""
    versions = [{**v, "schema": undescribed(v["schema"])} for v in crd["spec"]["versions"]]
    return {**crd, "spec": {**crd["spec"], "versions": versions}}


def kfp_crds(overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The CRDs the `ci` stack registers for KFP alone with `overrides`, by name."""
    recorder = run_stack("ci", {"kubeflow:components": ["pipelines"], **overrides})
    return {r.name: r.inputs for r in recorder.registered if r.type == CRD_TYPE}


@pytest.mark.usefixtures("full_crd_schemas")
def test_crds_install_without_descriptions_unless_the_stack_or_the_component_keeps_them() -> None:
    kept = kfp_crds({"kubeflow:crdDescriptions": True})
    assert kept and sum(schema_descriptions(c) for c in kept.values()) > 100
    assert kfp_crds({"kubeflow:pipelines": {"crdDescriptions": True}}) == kept
    default = kfp_crds({})
    assert default == {name: with_undescribed_schemas(c) for name, c in kept.items()}
    assert sum(schema_descriptions(c) for c in default.values()) == 0
    both = {"kubeflow:crdDescriptions": True, "kubeflow:pipelines": {"crdDescriptions": False}}
    assert kfp_crds(both) == default


def test_crd_descriptions_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match="kubeflow:crdDescriptions = 'yes' must be true or false"):
        run_stack("ci", {"kubeflow:components": ["pipelines"], "kubeflow:crdDescriptions": "yes"})
    with pytest.raises(ConfigError, match=r"kubeflow:pipelines\.crdDescriptions = 'yes' must be"):
        kfp_crds({"kubeflow:pipelines": {"crdDescriptions": "yes"}})
