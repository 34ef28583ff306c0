"""The record of what a stack installed, and the guard against going back where no way back
exists.

`InstalledVersions` is a small dynamic resource whose inputs are the version of each upstream
project the stack installs. Its `check` sees the versions the last `up` installed (its old
inputs) next to the new ones, so a downgrade across a barrier of `components/releases` (KServe
v0.18 stores LLMInferenceServices as v1alpha2, which older CRDs cannot serve) fails in preview
and in `up`. Every component waits for it, so a refused `up` touches nothing.

Its `changing` output names, during a preview, the projects whose version this deployment
changes. Every object of a component carries the component's version in an annotation
(`version_annotation`), whose value such a preview does not know yet: the provider then shows
the object without a server dry run. A dry run would check it against what is installed, not
what the same `up` applies first: Trainer v2.2.0's runtimes use fields only its new CRD
declares, and the dry run of a replacement with the same name (KServe v0.18's
ClusterRoleBinding with a new `roleRef`) patches the live object. CRDs keep their dry run:
the server checks a new schema against the stored objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider

from components.manifests import KubeObject
from components.objects import is_patch
from components.releases import downgrade_problem
from components.transforms import Transform

VERSION_ANNOTATION = "kubeflow-pulumi.io/version"
"""On every object a component installs: the component's version."""


def downgrade_failures(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Why the versions `new` cannot follow the installed `old`, one reason per project."""
    problems = [
        downgrade_problem(project, old[project], version)
        for project, version in new.items()
        if project in old
    ]
    return [p for p in problems if p]


class InstalledVersionsProvider(ResourceProvider):
    """Keeps the installed versions; refuses a downgrade past a barrier."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """A failure per project that cannot go back to its new version; `changing`: the
        installed projects whose version changes (what a preview of this change sees)."""
        old = (_olds or {}).get("versions") or {}
        new = news.get("versions") or {}
        failures = downgrade_failures(old, new)
        changing = sorted(p for p, version in new.items() if p in old and old[p] != version)
        checked = {**news, "changing": changing}
        return CheckResult(checked, [CheckFailure("versions", reason) for reason in failures])

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Nothing to create: the record is the state, with nothing changing any more."""
        return CreateResult("installed-versions", {**props, "changing": []})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Changed when a version changed."""
        return DiffResult(changes=olds.get("versions") != news.get("versions"))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> Any:
        """The new versions become the record, with nothing changing any more (a provider
        without previews hands `check`'s inputs, `changing` included, to a preview)."""
        return pulumi.dynamic.UpdateResult({**news, "changing": []})


class InstalledVersions(pulumi.dynamic.Resource, module="kubeflow", name="InstalledVersions"):
    """The versions a stack installs (upstream project -> version), as of its last `up`."""

    versions: pulumi.Output[dict[str, str]]
    changing: pulumi.Output[list[str]]
    """In a preview: the projects whose version this deployment changes; else empty."""

    def __init__(
        self, name: str, versions: Mapping[str, str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            InstalledVersionsProvider(),
            name,
            {"versions": dict(versions), "changing": None},
            opts,
        )

    def version_annotation(self, project: str, version: str) -> Transform:
        """Annotate every object of `project` with its `version`; in a preview that changes
        the version, the value is unknown except on CRDs (so they alone are dry-run)."""

        async def known() -> bool:
            return not pulumi.runtime.is_dry_run() or project not in (
                await self.changing.future() or []
            )

        value: pulumi.Output[str] = pulumi.Output(
            self.changing.resources(), _ready(version), known()
        )

        def apply(obj: KubeObject) -> KubeObject:
            if is_patch(obj):
                return obj  # another component's object (Katib's label on KFP's Namespace)
            metadata = obj.get("metadata") or {}
            crd = obj.get("kind") == "CustomResourceDefinition"
            annotation = {VERSION_ANNOTATION: version if crd else value}
            annotations = {**(metadata.get("annotations") or {}), **annotation}
            return {**obj, "metadata": {**metadata, "annotations": annotations}}

        return apply


async def _ready(value: str) -> str:
    return value
