"""Every stack in stacks/ loads and builds its resource graph under mocks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from components import KubeflowPipelines
from components.catalog import CATALOG
from components.render import Reference
from components.transforms import containers, pod_spec
from components.upstream import UpstreamSource
from infra.config import decode, load_settings
from tests.paths import MIRROR, REPO
from tests.unit.component_helpers import kube_objects, record_renders, unmade_namespaces
from tests.unit.mocks import Recorder, run_stack, stack_config

STACKS = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
PROD = yaml.safe_load((REPO / "stacks" / "Pulumi.prod.yaml").read_text())["config"]


pytestmark = pytest.mark.usefixtures("kube_bin")  # the local stacks


@dataclass
class StackRun:
    """One stack's program under mocks: what it registered and the references it rendered."""

    recorder: Recorder
    renders: list[Reference]


@pytest.fixture(scope="module")
def stack_runs() -> Callable[[str], StackRun]:
    """Each stack's program with its own config, run once per test process (xdist worker)
    for the tests of this module that look at it (a full platform takes about 2 s to
    register)."""
    runs: dict[str, StackRun] = {}

    def run(stack: str) -> StackRun:
        if stack not in runs:
            with pytest.MonkeyPatch.context() as patch:
                renders = record_renders(patch)
                runs[stack] = StackRun(run_stack(stack), renders)
        return runs[stack]

    return run


def test_there_is_a_stack_per_environment() -> None:
    assert {"ci", "dev", "local", "prod", "staging"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_builds_its_resource_graph(stack: str, stack_runs: Callable[[str], StackRun]) -> None:
    recorder = stack_runs(stack).recorder
    types = {r.type for r in recorder.registered}
    enabled = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"][
        "kubeflow:components"
    ]
    components = {t for t in types if t.startswith("kubeflow:components:")}
    assert components == {CATALOG[c].cls.TYPE for c in enabled}
    assert "kubeflow:platform:KubeflowPlatform" in types
    (provider,) = [r for r in recorder.registered if r.type == "pulumi:providers:kubernetes"]
    modes = {"ci": "render", "dev": "kind", "local": "local", "serving": "local"}
    assert provider.name == modes.get(stack, "existing")
    # Every Kubernetes object goes to the stack's cluster.
    kubernetes = [r for r in recorder.registered if r.type.startswith("kubernetes:")]
    assert kubernetes
    assert {r.provider.rpartition("::")[0] for r in kubernetes} == {provider.urn}
    # Each Namespace is one resource, from the pinned upstream as from a mirror.
    namespaces = Counter(
        r.inputs["metadata"]["name"] for r in kubernetes if r.type == "kubernetes:core/v1:Namespace"
    )
    assert namespaces and set(namespaces.values()) == {1}, namespaces
    # and every object is in a namespace the cluster has or the stack creates first
    assert unmade_namespaces(recorder) == []


def prod_settings_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Every way `objects` miss prod's replicas, resources, image registry and labels."""
    pipelines = PROD["kubeflow:pipelines"]
    registry = PROD["kubeflow:imageRegistry"] + "/"
    workloads = {o["metadata"]["name"]: o for o in objects if pod_spec(o) is not None}
    pod_specs = {name: spec for name, o in workloads.items() if (spec := pod_spec(o)) is not None}
    problems = [
        f"{name}: replicas {workloads[name]['spec'].get('replicas')} != {count}"
        for name, count in pipelines["replicas"].items()
        if workloads[name]["spec"].get("replicas") != count
    ]
    problems += [
        f"{name}/{c['name']}: resources {c.get('resources')} != {requirements}"
        for name, requirements in pipelines["resources"].items()
        for c in pod_specs[name]["containers"]
        if c.get("resources") != requirements
    ]
    problems += [
        f"{o['metadata']['name']}: image {c['image']} not from {registry}"
        for o in workloads.values()
        for c in containers(o)
        if not c["image"].startswith(registry)
    ]
    problems += [
        f"{o['kind']} {o['metadata']['name']}: labels {o['metadata'].get('labels')}"
        for o in objects
        if not PROD["kubeflow:labels"].items() <= (o["metadata"].get("labels") or {}).items()
    ]
    return problems


def test_prod_settings_reach_the_objects_of_its_upstream_install(
    stack_runs: Callable[[str], StackRun],
) -> None:
    """prod installs the pinned upstream: each part is rendered once (here from the mirror:
    GitHub is out of reach) and its objects are registered one by one, like a mirror's,
    with every prod setting."""
    raw = {k.removeprefix("kubeflow:"): v for k, v in stack_config("prod").items()}
    settings = load_settings(decode(raw), stack="prod", project_dir=REPO)
    args = settings.component_args["pipelines"]
    assert isinstance(args.source, UpstreamSource)
    version = KubeflowPipelines.version_for(args)
    run = stack_runs("prod")
    recorder = run.recorder
    kfp = list(
        dict.fromkeys(r.location for r in run.renders if "/kubeflow/pipelines/" in r.location)
    )
    assert len(kfp) == 2 and all(location.endswith(f"?ref={version}") for location in kfp)
    (pipelines,) = recorder.of_type(KubeflowPipelines.TYPE)
    objects = [r.inputs for r in kube_objects(recorder) if r.parent == pipelines.urn]
    assert len(objects) > 80
    assert prod_settings_problems(objects) == []


def test_prod_settings_reach_the_objects_of_the_same_stack_over_the_mirror() -> None:
    """prod's own stack config, the manifest source swapped for the mirror (two components,
    to keep the suite fast): the registered objects carry every prod setting."""
    overrides = {
        "kubeflow:manifestMirror": str(MIRROR),
        "kubeflow:components": ["pipelines", "katib"],
    }
    recorder = run_stack("prod", overrides)
    objects = [r.inputs for r in kube_objects(recorder)]
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Deployment", "ml-pipeline") in kinds and ("Deployment", "katib-controller") in kinds
    assert prod_settings_problems(objects) == []
