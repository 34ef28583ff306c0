"""With the real engine and provider: a stack whose part the provider rendered (a
`kustomize/v2 Directory` or a `helm/v4 Chart`, as stacks on the pinned upstream were made
before) moves to the one install path with no replace and no delete of an object: the
aliases name the provider's children exactly; and a stack whose objects' names carried the
part (before 3ecaaec) keeps every object under its name without it. A render-mode provider:
no cluster needed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.objects import split_urn, urn_type
from components.upstream import RENDER_TYPES
from tests.engine import REPO, engine_env, require_engine
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


def pulumi(root: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        [require_engine(), "--non-interactive", *args, "--stack", "it"],
        cwd=root,
        env=engine_env(root) | {"KUBEFLOW_RENDER_CACHE": str(root / "renders")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def stack(tmp_path: Path, kind: str, layout: str) -> None:
    """A stack of the program in `tmp_path`, its part a local `kind` upstream, in `layout`."""
    require_render_tools()
    upstream = kustomization(tmp_path / "k") if kind == "kustomize" else chart(tmp_path / "c")
    project = {
        "name": "upstream-migration-test",
        "runtime": {"name": "python", "options": {"virtualenv": str(REPO / ".venv")}},
        "main": "program/",
    }
    (tmp_path / "program").mkdir()
    (tmp_path / "state").mkdir()
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    (tmp_path / "program" / "__main__.py").write_text(PROGRAM)
    (tmp_path / "passphrase").write_text("integration-test-passphrase")
    pulumi(tmp_path, "stack", "init")
    config = {
        "upstream": str(upstream),
        "kind": kind,
        "renderDir": str(tmp_path / "rendered"),
        "lock": str(tmp_path / "lock.yaml"),
        "layout": layout,
    }
    for key, value in config.items():
        pulumi(tmp_path, "config", "set", key, value)


def changes(root: Path) -> dict[tuple[str, str], str]:
    """(type, resource name) -> the step a preview plans for it, of every step but `same`."""
    preview = json.loads(pulumi(root, "preview", "--json"))
    return {
        (urn_type(step["urn"]), split_urn(step["urn"])[2]): step["op"]
        for step in preview["steps"]
        if step["op"] != "same"
    }


@pytest.mark.parametrize("kind", ["kustomize", "helm"])
def test_a_provider_side_render_moves_to_the_one_path_without_replacing_anything(
    tmp_path: Path, kind: str
) -> None:
    stack(tmp_path, kind, "provider-side")
    # The Python SDK fails to read the Directory's outputs back here ("Expected 'list' got
    # str"), after the provider has created and recorded its children: what a stack has.
    pulumi(tmp_path, "up", "--yes", "--skip-preview", check=False)
    before = _objects(tmp_path)
    assert len(before) == len(OBJECTS) + 1  # and the CRD

    pulumi(tmp_path, "config", "set", "layout", "one-path")
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
    assert changes(tmp_path) == {
        (RENDER_TYPES[kind], "c-base"): "delete",
        **{(f"kubernetes:{type_}", name): "update" for type_, name in updated},
    }
    pulumi(tmp_path, "up", "--yes", "--skip-preview")
    pulumi(tmp_path, "preview", "--expect-no-changes")  # each update was made once
    after = _objects(tmp_path)
    # The same objects under the new names (`c:<ns>/<name>`; the ConfigMap upstream leaves
    # without a namespace was `c-base:default/settings`, or the chart's release namespace).
    assert all(name.partition("::")[2].startswith("c:") for name in after)
    assert sorted(map(_identity, after.values())) == sorted(map(_identity, before.values()))


def test_a_stack_whose_names_carried_the_part_keeps_every_object(tmp_path: Path) -> None:
    """Objects named `<component>-<part>:...` (before 3ecaaec) take their names without the
    part by the aliases the component gives them: the preview plans nothing but renames."""
    stack(tmp_path, "kustomize", "part-names")
    pulumi(tmp_path, "up", "--yes", "--skip-preview")
    before = _objects(tmp_path)
    assert before and all(name.partition("::")[2].startswith("c-base:") for name in before)

    pulumi(tmp_path, "config", "set", "layout", "one-path")
    assert changes(tmp_path) == {}
    pulumi(tmp_path, "up", "--yes", "--skip-preview")
    after = _objects(tmp_path)
    assert all(name.partition("::")[2].startswith("c:") for name in after)
    assert sorted(after.values()) == sorted(before.values())


def _identity(inputs: str) -> tuple[str, str]:
    obj = json.loads(inputs)
    return obj["kind"], obj["metadata"]["name"]


def _objects(root: Path) -> dict[str, Any]:
    """`<type>::<resource name>` -> the object's inputs, of every Kubernetes object in the
    state."""
    state = json.loads(pulumi(root, "stack", "export"))
    return {
        f"{r['type']}::{r['urn'].rpartition('::')[2]}": json.dumps(
            r.get("inputs", {}), sort_keys=True
        )
        for r in state["deployment"]["resources"]
        if r["type"].startswith("kubernetes:") and r["type"] not in RENDER_TYPES.values()
    }
