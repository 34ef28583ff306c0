"""What the KFP API server checks in an uploaded pipeline spec, checked before uploading.

The server (2.15, ``template/v2_template.go``) answers a spec it cannot use with HTTP 500
"Failed to create a pipeline version" and keeps the reason in its log. So the deploy resource
checks the same rules itself first (``shape_problems``: before anything is sent), and when the
server still refuses a spec it parses the spec against the kfp SDK's own ``PipelineSpec``
proto (``proto_problems``) to say which field is wrong.
"""

from __future__ import annotations

from typing import Any

import yaml

#: The only IR schema version the server accepts.
SCHEMA_VERSION = "2.1.0"


def _documents(package: str) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(package) if doc is not None]


def _pipeline_document(package: str) -> dict[str, Any] | None:
    """The document that is the pipeline spec (the server tells it by pipelineInfo/root)."""
    for doc in _documents(package):
        if isinstance(doc, dict) and ("pipelineInfo" in doc or "root" in doc):
            return doc
    return None


def shape_problems(package: str) -> list[str]:
    """The server's own rules: one pipeline spec document, schema 2.1.0, a name, a root."""
    try:
        spec = _pipeline_document(package)
    except yaml.YAMLError as err:
        return [f"package is not YAML ({err})"]
    if spec is None:
        return ["package must be a compiled KFP pipeline (IR YAML with pipelineInfo and root)"]
    problems = []
    if spec.get("schemaVersion") != SCHEMA_VERSION:
        problems.append(
            f"package has schemaVersion {spec.get('schemaVersion')!r}; KFP accepts only "
            f"{SCHEMA_VERSION!r}: compile it with the kfp SDK 2.x compiler"
        )
    info = spec.get("pipelineInfo")
    if not isinstance(info, dict) or not info.get("name"):
        problems.append("package has no pipelineInfo.name: give the @dsl.pipeline a name")
    if not isinstance(spec.get("root"), dict):
        problems.append("package has no root component: the pipeline has no tasks")
    return problems


def proto_problems(package: str) -> list[str]:
    """Fields of the pipeline spec that the kfp SDK's PipelineSpec proto does not accept."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    try:
        spec = _pipeline_document(package)
    except yaml.YAMLError as err:
        return [f"package is not YAML ({err})"]
    if spec is None:
        return []
    try:
        json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    except json_format.ParseError as err:
        return [f"the spec does not parse as the kfp SDK's PipelineSpec: {err}"]
    return []
