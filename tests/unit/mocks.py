"""Run Pulumi programs under mocks and record what they register."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import pulumi
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
from pulumi.runtime.proto import resource_pb2

from components.objects import split_urn, urn_type
from tests.paths import REPO


@dataclass
class Registered:
    """One resource registration as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str
    provider: str
    dependencies: list[str]
    wire_inputs: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)
    """The inputs as the SDK sent them (`inputs` reads them when a test asks)."""
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    deleted_with: str = ""
    """The URN of the resource whose delete takes this one with it ("" for none)."""
    alias_urns: list[str] = field(default_factory=list)
    """The URNs the resource was known by before (its aliases; components give URNs)."""

    @cached_property
    def inputs(self) -> dict[str, Any]:
        """The inputs, as a provider would read them (secrets wrapped, unknowns kept)."""
        inputs: dict[str, Any] = rpc.deserialize_properties(self.wire_inputs, keep_unknowns=True)
        return inputs

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """`inputs["metadata"]` of a Kubernetes object, read alone (a CRD's schema is not)."""
        metadata = struct_pb2.Struct()
        metadata.fields["metadata"].CopyFrom(self.wire_inputs.fields["metadata"])
        found: dict[str, Any] = rpc.deserialize_properties(metadata)["metadata"]
        return found

    @property
    def aliases(self) -> list[str]:
        """The name in each of `alias_urns`."""
        return [split_urn(urn)[2] for urn in self.alias_urns]

    @property
    def alias_types(self) -> list[str]:
        """The type in each of `alias_urns`: its own, after its parents'."""
        return [urn_type(urn) for urn in self.alias_urns]


def mock_id(name: str) -> str:
    """The ID the mocks give a resource named `name`."""
    return f"{name}-id"


class Recorder(pulumi.runtime.Mocks):
    """Mocks that keep every registration, in order."""

    def __init__(self) -> None:
        self.registered: list[Registered] = []
        self._before: dict[str, set[str]] = {}
        self._closed_over = 0

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "new_resource" in vars(cls):
            raise TypeError(
                f"{cls.__name__} overrides new_resource, which the recording monitor calls only "
                f"for types with extra outputs; fix: override extra_outputs instead"
            )

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return mock_id(args.name), self.outputs(args.typ, args.inputs)

    def outputs(self, type_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """A resource's outputs: its inputs and its type's `extra_outputs`."""
        return {**inputs, **self.extra_outputs(type_)}

    def extra_outputs(self, type_: str) -> dict[str, Any]:
        """Outputs a resource of `type_` has beside its inputs (none: a provider that echoes)."""
        return {}

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """No outputs and no check failures (a list, not None: the SDK's monitor iterates them)."""
        return {}, []

    def of_type(self, prefix: str) -> list[Registered]:
        return [r for r in self.registered if r.type.startswith(prefix)]

    def by_urn(self) -> dict[str, Registered]:
        return {r.urn: r for r in self.registered}

    def waits_for(self, resource: Registered) -> set[str]:
        """The URNs `resource` waits for, directly or through what it waits for: what the
        engine applies before it (an object names only the last lower tier that has objects)."""
        if len(self.registered) != self._closed_over:
            self._before = transitively({r.urn: r.dependencies for r in self.registered})
            self._closed_over = len(self.registered)
        return self._before[resource.urn]


def transitively(direct: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """Each key of `direct` -> every key it reaches through `direct` (what it waits for,
    directly or through others: what the engine applies before it)."""
    before: dict[str, set[str]] = {}

    def visit(key: str) -> set[str]:
        if key not in before:
            after = direct.get(key, ())
            before[key] = set(after).union(*(visit(d) for d in after))
        return before[key]

    return {key: visit(key) for key in direct}


class RecordingMonitor(MockMonitor):
    """A mock monitor that also records parents, providers and dependencies.

    A resource's outputs are its inputs as the SDK sent them (with the recorder's
    `extra_outputs`): the SDK's own mock monitor reads every input into Python and writes it
    back, a walk of every property that a real engine does in Go and that would otherwise
    count as the program's time. A test reads a resource's inputs when it asks for them."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder

    def Invoke(  # noqa: N802 - gRPC method name
        self, request: resource_pb2.ResourceInvokeRequest
    ) -> resource_pb2.ResourceInvokeResponse:
        """As the SDK's, answering `pulumi:pulumi:getResource` for the resources registered
        here too (a resource given as an input, read back as that resource)."""
        if request.tok == "pulumi:pulumi:getResource":
            urn = str(request.args["urn"])
            known = self.recorder.by_urn().get(urn)
            if known is not None and urn not in self.resources:
                state = self.recorder.outputs(known.type, known.inputs)
                self.resources[urn] = self.ResourceRegistration(urn, mock_id(known.name), state)
        response: resource_pb2.ResourceInvokeResponse = super().Invoke(request)  # type: ignore[no-untyped-call]  # the SDK's MockMonitor is unannotated
        return response

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """A resource's URN as the engine makes it: its type after every parent's (the SDK's
        mocks put only the direct parent's there), so that aliases given as URNs
        (`components.objects.child_urn`) name what a real state holds."""
        if parent:
            type_ = f"{split_urn(parent)[1]}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(  # noqa: N802 - gRPC method name
        self, request: resource_pb2.RegisterResourceRequest
    ) -> resource_pb2.RegisterResourceResponse:
        response: resource_pb2.RegisterResourceResponse
        if request.type == "pulumi:pulumi:Stack" or self.recorder.extra_outputs(request.type):
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]  # the SDK's MockMonitor is unannotated
        else:
            response = resource_pb2.RegisterResourceResponse(
                urn=self.make_urn(request.parent, request.type, request.name),
                id=mock_id(request.name),
                object=request.object,
            )
        if request.type != "pulumi:pulumi:Stack":
            self.recorder.registered.append(
                Registered(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    wire_inputs=request.object,
                    retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=list(request.ignoreChanges),
                    deleted_with=request.deletedWith,
                    alias_urns=[a.urn for a in request.aliases],
                )
            )
        return response


def run(
    program: Callable[[], object],
    *,
    stack: str = "unit",
    config: Mapping[str, str] | None = None,
    recorder: Recorder | None = None,
    preview: bool = False,
) -> Recorder:
    """Run `program` under fresh mocks (with `config`; as a preview if `preview`) and wait for
    every registration. Pass a `recorder` to see what was registered when the program raises."""
    recorder = recorder or Recorder()
    pulumi.runtime.set_mocks(
        recorder,
        project="kubeflow",
        stack=stack,
        preview=preview,
        monitor=RecordingMonitor(recorder),
    )
    pulumi.runtime.set_all_config(dict(config or {}))
    pulumi.runtime.test(lambda: program() and None)()  # type: ignore[no-untyped-call]  # the SDK's test() is unannotated
    return recorder


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """A stack's config as the engine passes it: Pulumi.yaml defaults, the stack file, overrides."""
    return {**_stack_file_config(stack), **_encoded(overrides or {})}


def _encoded(values: Mapping[str, Any]) -> dict[str, str]:
    """Config values as the engine passes them: strings as they are, the rest as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


@cache
def _stack_file_config(stack: str) -> dict[str, str]:
    """Pulumi.yaml's defaults and the stack file's config, encoded (read once per process:
    the files do not change while the tests run; callers get a copy)."""
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    values: dict[str, Any] = {
        f"kubeflow:{k}": v["default"] for k, v in project["config"].items() if "default" in v
    }
    stack_file = REPO / "stacks" / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values |= (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    return _encoded(values)


def run_stack(
    stack: str, overrides: Mapping[str, Any] | None = None, recorder: Recorder | None = None
) -> Recorder:
    """Run infra/__main__.py for `stack` under mocks."""
    import runpy

    return run(
        lambda: runpy.run_path(str(REPO / "infra" / "__main__.py"), run_name="__main__"),
        stack=stack,
        config=stack_config(stack, overrides),
        recorder=recorder,
    )
