"""The kubeflow-pulumi CrossGuard policy pack (`pulumi preview --policy-pack policy`).

The engine starts this file through the Python language host's RunPlugin, in the pack's
virtualenv (policy/venv), with the pack directory first on sys.path. The rules live in
`rules/` (no policy SDK there, so the unit tests run them directly); this file only hands
them to pulumi-policy. Levels and settings come from `--policy-pack-config` (scripts/preview.sh
writes one per stack; see policy/README.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from rules import (
    RESOURCE_POLICIES,
    SECRET_POLICY,
    STACK_POLICIES,
    catalog,
    evaluate,
    evaluate_stack,
    is_kubernetes_type,
    secrets,
)

PACK = "kubeflow-platform"
EXCEPTIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {k: {"type": "string"} for k in ("kind", "name", "namespace", "reason")},
        "required": ["kind", "name", "reason"],
    },
    "default": [],
    "description": "Objects this policy leaves alone, each with the reason.",
}

# The Python policy SDK gives policies plain values, secret or not (pulumi/pulumi-policy#241),
# so the secret-data policy reads which inputs are secret from the raw request, which the
# servicer below records for the thread that handles it.
_request = threading.local()


class _SecretInputsRecorder:
    """Delegates to the SDK's analyzer servicer; remembers each Analyze request's secret inputs."""

    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._servicer, name)

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        wire = json_format.MessageToDict(request.properties)
        _request.secret_inputs = secrets.secret_inputs(wire)
        try:
            return self._servicer.Analyze(request, context)
        finally:
            _request.secret_inputs = set()


_add_servicer: Callable[[Any, Any], None] = analyzer_pb2_grpc.add_AnalyzerServicer_to_server


def _add_recording_servicer(servicer: Any, server: Any) -> None:
    _add_servicer(_SecretInputsRecorder(servicer), server)


analyzer_pb2_grpc.add_AnalyzerServicer_to_server = _add_recording_servicer


def plain(value: Any) -> Any:
    """The SDK's read-only proxies as dicts and lists (reading an unknown value raises, and the
    SDK then reports that the policy cannot run during this preview)."""
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    return value


def config_schema(policy: str) -> PolicyConfigSchema:
    properties = {k: dict(v) for k, v in catalog()[policy]["settings"].items()}
    return PolicyConfigSchema(properties={**properties, "exceptions": EXCEPTIONS_SCHEMA})


def described(name: str) -> dict[str, Any]:
    """What the catalog says of policy `name`: its description, level, settings and fix."""
    entry = catalog()[name]
    return {
        "name": name,
        "description": entry["description"],
        "enforcement_level": EnforcementLevel(entry["enforcementLevel"]),
        "config_schema": config_schema(name),
        "remediation_steps": entry["fix"],
    }


def resource_policy(name: str) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not is_kubernetes_type(args.resource_type):
            return  # read nothing of other resources (their unknowns would stop the policy)
        secret_inputs: set[str] = getattr(_request, "secret_inputs", set())
        for violation in evaluate(
            name, args.resource_type, plain(args.props), args.get_config(), secret_inputs
        ):
            report_violation(violation.text(), None)

    return ResourceValidationPolicy(validate=validate, **described(name))


def stack_policy(name: str) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            (r.urn, r.resource_type, plain(r.props))
            for r in args.resources
            if is_kubernetes_type(r.resource_type)
        ]
        for urn, violation in evaluate_stack(name, resources, args.get_config()):
            report_violation(violation.text(), urn)

    return StackValidationPolicy(validate=validate, **described(name))


if __name__ == "__main__":
    PolicyPack(
        name=PACK,
        policies=[
            *(resource_policy(name) for name in [*RESOURCE_POLICIES, SECRET_POLICY]),
            *(stack_policy(name) for name in STACK_POLICIES),
        ],
    )
