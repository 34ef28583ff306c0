"""Install one component under Pulumi mocks and look at what it registered."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.awaits import WAIT_FOR
from components.base import ComponentArgs, KubeflowComponent
from components.catalog import CATALOG
from components.manifests import KubeObject, MirrorSource
from components.objects import install_tier
from components.transforms import compose
from tests.unit.mirror_helpers import cached_loads, without_crd_schemas
from tests.unit.mocks import MIRROR, Recorder, Registered, run

Identity = tuple[str, str, str]


def install(cls: type[KubeflowComponent], args: ComponentArgs, name: str = "c") -> Recorder:
    """Register `cls(name, args)` under a Kubernetes provider, as the platform does."""

    def program() -> None:
        provider = k8s.Provider("cluster", render_yaml_to_directory="/tmp/unused")
        cls(name, args, pulumi.ResourceOptions(provider=provider))

    return run(program)


def mirror_install(cls: type[KubeflowComponent], **settings: Any) -> Recorder:
    """`cls` with `settings` installed from the full manifest mirror under its catalog id, as
    the platform names it. Mirror files are parsed once per process, and CRD schemas are left
    out (`without_crd_schemas`: megabytes the mocks would copy that no unit test reads)."""
    (entry,) = [e for e in CATALOG.values() if e.cls is cls]
    source = MirrorSource(MIRROR)
    with cached_loads():
        args = entry.args_cls(source=source, transforms=[without_crd_schemas], **settings)
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
        waiting, total = tiers.get(install_tier(r.inputs), (0, 0))
        tiers[install_tier(r.inputs)] = (waiting + bool(theirs & set(r.dependencies)), total + 1)
    return dict(sorted(tiers.items()))


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
