"""With the real engine and provider: a stack whose part the provider rendered (a
`kustomize/v2 Directory` or a `helm/v4 Chart`, as stacks on the pinned upstream were made
before) moves to the one install path with no replace and no delete of an object: the
aliases name the provider's children exactly; and a stack whose objects' names carried the
part (before 3ecaaec) keeps every object under its name without it. A render-mode provider:
no cluster needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.objects import split_urn, urn_type
from components.upstream import RENDER_TYPES
from tests.engine import PulumiProject, Stack
from tests.render_tools import require_render_tools
from tests.unit.local_upstreams import OBJECTS, chart, kustomization

pytestmark = pytest.mark.integration

PROGRAM = '''
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import ManifestPart
from components.transforms import Transform, release_namespace
from components.upstream import UpstreamSource

config = pulumi.Config()
folder, kind = config.require("upstream"), config.require("kind")
provider = k8s.Provider("render", render_yaml_to_directory=config.require("renderDir"))
part = ManifestPart("base", folder, kind, "demo.yaml", chart="demo", namespace="demo")


class Demo(KubeflowComponent):
    COMPONENT = "demo"
    TYPE = "kubeflow:test:Demo"
    DEFAULT_VERSION = "v1"
    UPSTREAM_NAMESPACE = "demo"
    VERSIONS = {"v1": (part,)}

    def extra_transforms(self) -> list[Transform]:
        """What `helm install -n` does, as the Spark Operator component does it."""
        return [release_namespace(self.resolved_namespace)] if kind == "helm" else []


class Before(pulumi.ComponentResource):
    """The component as earlier versions built it: the provider renders the part."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__(Demo.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if kind == "helm":
            k8s.helm.v4.Chart(
                f"{name}-base", chart=folder, name="demo", namespace="demo", opts=child
            )
        else:
            k8s.kustomize.v2.Directory(f"{name}-base", directory=folder, opts=child)


opts = pulumi.ResourceOptions(provider=provider)
layout = config.require("layout")
if layout == "provider-side":
    Before("c", opts)
else:
    if layout == "part-names":
        # Objects named as before 3ecaaec: `<component>-<part>:<ns>/<name>` under the component.
        import components.base

        named = components.base.resource_name
        components.base.resource_name = lambda component, obj: named(f"{component}-base", obj)
    source = UpstreamSource(lock_file=Path(config.require("lock")))
    Demo("c", ComponentArgs(source=source), opts)
'''


def stack(tmp_path: Path, kind: str, layout: str) -> Stack:
    """A stack of the program in `tmp_path`, its part a local `kind` upstream, in `layout`."""
    require_render_tools()
    upstream = kustomization(tmp_path / "k") if kind == "kustomize" else chart(tmp_path / "c")
    renders = {"KUBEFLOW_RENDER_CACHE": str(tmp_path / "renders")}
    project = PulumiProject.inline(tmp_path, "upstream-migration-test", PROGRAM, renders)
    config = {
        "upstream": str(upstream),
        "kind": kind,
        "renderDir": str(tmp_path / "rendered"),
        "lock": str(tmp_path / "lock.yaml"),
        "layout": layout,
    }
    return project.stack("it", config)


def changes(it: Stack) -> dict[tuple[str, str], str]:
    """(type, resource name) -> the step a preview plans for it, of every step but `same`."""
    return {
        (urn_type(step["urn"]), split_urn(step["urn"])[2]): step["op"]
        for step in it.preview_steps()["steps"]
        if step["op"] != "same"
    }


@pytest.mark.parametrize("kind", ["kustomize", "helm"])
def test_a_provider_side_render_moves_to_the_one_path_without_replacing_anything(
    tmp_path: Path, kind: str
) -> None:
    it = stack(tmp_path, kind, "provider-side")
    # The Python SDK fails to read the Directory's outputs back here ("Expected 'list' got
    # str"), after the provider has created and recorded its children: what a stack has.
    it.up(check=False)
    before = _objects(it)
    assert len(before) == len(OBJECTS) + 1  # and the CRD

    it.set_config("layout", "one-path")
    # Only the provider-side render goes; every object keeps its state under its new name.
    # This render had no transforms: the Namespace gets its pod security labels, and every
    # object but the two Deployments its delete policy (the chart puts the ConfigMap in its
    # namespace).
    settings = "c:demo/settings" if kind == "helm" else "c:settings"
    updated = [
        ("core/v1:Namespace", "c:demo"),
        ("core/v1:ServiceAccount", "c:demo/widget-controller"),
        ("core/v1:ConfigMap", settings),
        ("apiextensions.k8s.io/v1:CustomResourceDefinition", "c:widgets.example.com"),
        ("admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration", "c:widgets.example.com"),
        ("example.com/v1:Widget", "c:demo/w"),
    ]
    assert changes(it) == {
        (RENDER_TYPES[kind], "c-base"): "delete",
        **{(f"kubernetes:{type_}", name): "update" for type_, name in updated},
    }
    it.up()
    it.pulumi("preview", "--expect-no-changes")  # each update was made once
    after = _objects(it)
    # The same objects under the new names (`c:<ns>/<name>`; the ConfigMap upstream leaves
    # without a namespace was `c-base:default/settings`, or the chart's release namespace).
    assert all(name.partition("::")[2].startswith("c:") for name in after)
    assert sorted(map(_identity, after.values())) == sorted(map(_identity, before.values()))


def test_a_stack_whose_names_carried_the_part_keeps_every_object(tmp_path: Path) -> None:
    """Objects named `<component>-<part>:...` (before 3ecaaec) take their names without the
    part by the aliases the component gives them: the preview plans nothing but renames."""
    it = stack(tmp_path, "kustomize", "part-names")
    it.up()
    before = _objects(it)
    assert before and all(name.partition("::")[2].startswith("c-base:") for name in before)

    it.set_config("layout", "one-path")
    assert changes(it) == {}
    it.up()
    after = _objects(it)
    assert all(name.partition("::")[2].startswith("c:") for name in after)
    assert sorted(after.values()) == sorted(before.values())


def _identity(inputs: str) -> tuple[str, str]:
    obj = json.loads(inputs)
    return obj["kind"], obj["metadata"]["name"]


def _objects(it: Stack) -> dict[str, Any]:
    """`<type>::<resource name>` -> the object's inputs, of every Kubernetes object in the
    state."""
    state = json.loads(it.pulumi("stack", "export").stdout)
    return {
        f"{r['type']}::{r['urn'].rpartition('::')[2]}": json.dumps(
            r.get("inputs", {}), sort_keys=True
        )
        for r in state["deployment"]["resources"]
        if r["type"].startswith("kubernetes:") and r["type"] not in RENDER_TYPES.values()
    }
