"""Install one component under Pulumi mocks and look at what it registered."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import render, upstream
from components.args import ComponentArgs
from components.awaits import WAIT_FOR
from components.base import KubeflowComponent
from components.catalog import CATALOG
from components.manifests import KubeObject, MirrorSource
from components.objects import BUILT_IN_NAMESPACES, WORKLOAD_TIER, install_tier
from components.render import Reference
from components.transforms import compose
from components.validation import ComponentArgsError
from infra.config import ConfigError, load_settings
from tests.paths import MIRROR, REPO
from tests.unit.mirror_helpers import cached_loads
from tests.unit.mocks import Recorder, Registered, run

Identity = tuple[str, str, str]
FLAG = "is not true or false; fix: write true or false without quotes"
"""What a setting that must be true or false says of another value (`validation.flag_errors`)."""


def install(
    cls: type[KubeflowComponent],
    args: ComponentArgs,
    name: str = "c",
    recorder: Recorder | None = None,
) -> Recorder:
    """Register `cls(name, args)` under a Kubernetes provider, as the platform does (into
    `recorder`, to see what was registered when it raises)."""

    def program() -> None:
        provider = k8s.Provider("cluster", render_yaml_to_directory="/tmp/unused")
        cls(name, args, pulumi.ResourceOptions(provider=provider))

    return run(program, recorder=recorder)


def refused(
    cls: type[KubeflowComponent],
    args: ComponentArgs,
    match: str,
    error: type[ValueError] = ComponentArgsError,
) -> str:
    """The message `cls` refuses `args` with (an `error` matching `match`), seen to come
    before anything is registered, the component itself included (built without a provider,
    which would register before it)."""
    recorder = Recorder()
    with pytest.raises(error, match=match) as raised:
        run(lambda: cls("c", args), recorder=recorder)
    assert [r.type for r in recorder.registered] == []
    return str(raised.value)


def mirror_install(cls: type[KubeflowComponent], **settings: Any) -> Recorder:
    """`cls` with `settings` installed from the full manifest mirror under its catalog id, as
    the platform names it. Mirror files are parsed once per process (and load without CRD
    schemas: conftest.py)."""
    (entry,) = [e for e in CATALOG.values() if e.cls is cls]
    source = MirrorSource(MIRROR)
    with cached_loads():
        args = entry.args_cls(source=source, **settings)
        return install(cls, args, entry.component_id)


def resolved(outputs: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """The values of the outputs (by name) that `outputs` builds under mocks, e.g. the
    endpoints of a component it creates."""
    values: dict[str, Any] = {}
    run(lambda: pulumi.Output.all(**outputs()).apply(values.update))
    return values


def build(cls: type[KubeflowComponent], args: ComponentArgs) -> KubeflowComponent:
    """The component for `args`, built under mocks, to run its hooks on mirror objects."""
    built: list[KubeflowComponent] = []
    run(lambda: built.append(cls("c", args)))
    return built[0]


def as_installed(component: KubeflowComponent, objects: list[KubeObject]) -> list[KubeObject]:
    """`objects` of a mirror as `component` would register them: included, transformed."""
    transform = compose(component.transforms())
    return [transform(o) for o in objects if component.include(o)]


def kube_objects(recorder: Recorder) -> list[Registered]:
    """Every Kubernetes object registered (not the provider), in registration order."""
    return [r for r in recorder.registered if r.type.startswith("kubernetes:")]


def unmade_namespaces(recorder: Recorder) -> list[str]:
    """Each object in a namespace that neither the cluster has from the start nor the program
    creates, or that does not wait for the Namespace the program creates: what `up` would
    fail on, having applied whatever came before it."""
    made = {
        r.metadata["name"]: r.urn
        for r in kube_objects(recorder)
        if r.type == "kubernetes:core/v1:Namespace"
    }
    problems: list[str] = []
    for r in kube_objects(recorder):
        namespace = r.metadata.get("namespace")
        if not namespace or namespace in BUILT_IN_NAMESPACES:
            continue
        if namespace not in made:
            problems.append(f"{r.name}: in {namespace!r}, which nothing creates")
        elif made[namespace] not in recorder.waits_for(r):
            problems.append(f"{r.name}: in {namespace!r}, without waiting for it")
    return problems


def children_of(recorder: Recorder, component: Registered) -> list[Registered]:
    """The Kubernetes objects `component` registered."""
    return [r for r in kube_objects(recorder) if r.parent == component.urn]


def tiers_waiting(
    recorder: Recorder, waiter: Registered, component: Registered
) -> dict[int, tuple[int, int]]:
    """Per install tier (`install_tier`) of `waiter`'s objects: how many of them wait for an
    object of `component`, and how many there are."""
    theirs = {r.urn for r in children_of(recorder, component)}
    tiers: dict[int, tuple[int, int]] = {}
    for r in children_of(recorder, waiter):
        tier = install_tier(r.inputs)
        waiting, total = tiers.get(tier, (0, 0))
        tiers[tier] = (waiting + bool(theirs & recorder.waits_for(r)), total + 1)
    return dict(sorted(tiers.items()))


def required_waits(
    recorder: Recorder, waiter_type: str, required_type: str
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """`tiers_waiting` of the components of `waiter_type` on the one of `required_type`, as
    registered, and as `ComponentArgs.requires` has it: every object from `WORKLOAD_TIER` on
    waits, none before it."""
    (waiter,) = recorder.of_type(waiter_type)
    (required,) = recorder.of_type(required_type)
    tiers = tiers_waiting(recorder, waiter, required)
    return tiers, {t: (n if t >= WORKLOAD_TIER else 0, n) for t, (_, n) in tiers.items()}


def namespace_waits(
    recorder: Recorder, waiter: Registered, namespace: Registered
) -> tuple[int, int]:
    """How many of `waiter`'s objects in the Namespace `namespace` (another component's) name
    it as what they wait for, and how many are in it."""
    name = namespace.inputs["metadata"]["name"]
    inside = [
        r for r in children_of(recorder, waiter) if r.inputs["metadata"].get("namespace") == name
    ]
    return sum(namespace.urn in r.dependencies for r in inside), len(inside)


def waits_beyond(
    recorder: Recorder, waiter: Registered, other: Registered, allowed: Registered
) -> list[str]:
    """`waiter`'s objects that wait for an object of the component `other` besides
    `allowed` (e.g. the Namespace it creates), by name."""
    theirs = {r.urn for r in children_of(recorder, other)} - {allowed.urn}
    return [r.name for r in children_of(recorder, waiter) if theirs & recorder.waits_for(r)]


def identities(objects: list[dict[str, Any]]) -> Counter[Identity]:
    """(kind, namespace, name) of each object, counted."""
    return Counter(
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects
    )


def registered(recorder: Recorder, kind: str, name: str) -> Registered:
    """The one registered object of `kind` named `name`."""
    (found,) = [
        r
        for r in kube_objects(recorder)
        if r.inputs["kind"] == kind and r.inputs["metadata"]["name"] == name
    ]
    return found


@contextmanager
def pulumi_warnings() -> Iterator[list[str]]:
    """Collect the messages of pulumi.log.warn (the mock engine logs them to the root logger)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                messages.append(record.getMessage())

    handler = Collect()
    logging.getLogger().addHandler(handler)
    try:
        yield messages
    finally:
        logging.getLogger().removeHandler(handler)


def wait_for_annotations(recorder: Recorder) -> dict[str, str]:
    """Each registered Deployment's `pulumi.com/waitFor` annotation, by name (those that
    have one)."""
    return {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["annotations"][WAIT_FOR]
        for r in kube_objects(recorder)
        if r.inputs["kind"] == "Deployment"
        and WAIT_FOR in (r.inputs["metadata"].get("annotations") or {})
    }


def rollout_wait(replicas: int) -> list[str]:
    """What a Recreate Deployment of `replicas` waits for (components/awaits.py)."""
    counts = ("updatedReplicas", "replicas", "availableReplicas")
    return [f"jsonpath={{.status.{n}}}={replicas}" for n in counts]


def record_renders(monkeypatch: pytest.MonkeyPatch) -> list[Reference]:
    """From now on (until `monkeypatch` undoes it), the references components render (from
    the render cache or anew), in the order they ask for them."""
    seen: list[Reference] = []
    real = render.render

    def recording(reference: Reference, cache: Path, *, refresh: bool = False) -> render.Render:
        seen.append(reference)
        return real(reference, cache, refresh=refresh)

    monkeypatch.setattr(upstream, "render", recording)
    return seen


def settings_problems(raw: Mapping[str, object]) -> list[str]:
    """The problems `load_settings` reports for `raw`, one per line."""
    with pytest.raises(ConfigError) as error:
        load_settings(raw, stack="ci", project_dir=REPO)
    return [line.removeprefix("  - ") for line in str(error.value).splitlines()[1:]]
