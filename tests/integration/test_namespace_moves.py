"""With the real engine (render mode, no cluster): adding a component that comes before the
one that made a shared namespace moves the Namespace to it without a delete, which would
take the live namespace and everything in it along (`ComponentArgs.siblings`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.engine import PulumiProject
from tests.paths import MIRROR

pytestmark = pytest.mark.integration


def test_a_namespace_moves_to_the_component_that_now_makes_it(tmp_path: Path) -> None:
    project = PulumiProject.create(tmp_path)
    settings = {"cluster": "render", "renderDir": str(tmp_path / "out"), "keepData": "false"}
    stack = project.stack(
        "ci", {**settings, "manifestMirror": str(MIRROR), "components": ["model-registry"]}
    )
    stack.up()
    # KFP comes before the Model Registry (the catalog's order): it makes `kubeflow` now
    stack.set_config("components", ["model-registry", "pipelines"])
    steps = stack.preview_steps()["steps"]
    namespaces = [
        (step["op"], step["urn"].rpartition("::")[2])
        for step in steps
        if "kubernetes:core/v1:Namespace" in step["urn"]
    ]
    assert namespaces == [("update", "pipelines:kubeflow")]
    assert Counter(step["op"] for step in steps)["delete"] == 0
    stack.up()
    stack.pulumi("preview", "--expect-no-changes")
