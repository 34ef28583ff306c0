"""The mocks the unit tests run programs under: what a program reads back, what a test sees."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from policy.rules.secrets import SECRET_SIGNATURE
from tests.unit.mocks import Recorder, run


class Thing(pulumi.CustomResource):
    """A resource of a made-up provider, with whatever properties it is given."""

    spec: pulumi.Output[Any]
    status: pulumi.Output[Any]

    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__("test:index:Thing", name, {"status": None, **props})


class WithStatus(Recorder):
    """Mocks under which every Thing also has a status."""

    def extra_outputs(self, type_: str) -> dict[str, Any]:
        return {"status": "ready"} if type_ == "test:index:Thing" else {}


def read_back(recorder: Recorder, props: dict[str, Any], preview: bool = False) -> dict[str, Any]:
    """What a program reads back from a Thing registered with `props`, under `recorder` (in
    a preview, only what the outputs hold: the SDK fills nothing in from the inputs)."""
    seen: dict[str, Any] = {}

    def program() -> None:
        thing = Thing("a", props)
        thing.spec.apply(lambda value: seen.update(spec=value))
        thing.status.apply(lambda value: seen.update(status=value))

    run(program, recorder=recorder, preview=preview)
    return seen


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_a_resource_reads_back_its_inputs_as_outputs_and_tests_see_the_inputs(
    preview: bool,
) -> None:
    spec = {"replicas": 2, "labels": {"app": "x"}, "ports": [80, 443], "paused": False}
    recorder = Recorder()
    # no status was given, so in a preview it is unknown (its apply never runs)
    status = {} if preview else {"status": None}
    assert read_back(recorder, {"spec": spec}, preview) == {"spec": spec, **status}
    (thing,) = recorder.of_type("test:")
    assert thing.inputs == {"spec": spec}


def test_a_recorders_extra_outputs_reach_the_program_beside_the_inputs() -> None:
    spec = {"replicas": 1}
    recorder = WithStatus()
    assert read_back(recorder, {"spec": spec}) == {"spec": spec, "status": "ready"}
    (thing,) = recorder.of_type("test:")
    assert thing.inputs == {"spec": spec}  # the status is the provider's, not an input


def test_a_secret_input_is_recorded_as_a_secret() -> None:
    recorder = Recorder()
    read_back(recorder, {"spec": pulumi.Output.secret({"token": "s3cr3t"})})
    (thing,) = recorder.of_type("test:")
    wrapped = thing.inputs["spec"]
    assert wrapped == {SECRET_SIGNATURE[0]: SECRET_SIGNATURE[1], "value": {"token": "s3cr3t"}}


def test_a_resource_given_as_an_input_reads_back_as_that_resource() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        config_map = k8s.core.v1.ConfigMap("settings", data={"mode": "fast"})
        thing = Thing("a", {"spec": config_map})
        peer: pulumi.Output[list[Any]] = thing.spec.apply(
            lambda resource: pulumi.Output.all(resource.urn, resource.data)
        )
        pulumi.Output.all(config_map.urn, peer).apply(
            lambda values: seen.update(own=values[0], read_back=values[1])
        )

    run(program)
    assert seen["read_back"] == [seen["own"], {"mode": "fast"}]


def test_a_recorder_overriding_new_resource_is_refused() -> None:
    with pytest.raises(TypeError, match="fix: override extra_outputs instead"):

        class Overriding(Recorder):
            def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
                return "id", {}
