"""The record of what a stack installed, and the guard against going back where no way back
exists.

`InstalledVersions` is a small dynamic resource whose inputs are the version of each upstream
project the stack installs. Its `check` sees the versions the last `up` installed (its old
inputs) next to the new ones, so a downgrade across a barrier of `components/releases` (KServe
v0.18 stores LLMInferenceServices as v1alpha2, which older CRDs cannot serve) fails in preview
and in `up`. Every component waits for it, so a refused `up` touches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider

from components.releases import downgrade_problem


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
        """A failure per project that cannot go back to its new version."""
        olds = _olds or {}
        failures = downgrade_failures(olds.get("versions") or {}, news.get("versions") or {})
        return CheckResult(news, [CheckFailure("versions", reason) for reason in failures])

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Nothing to create: the record is the state."""
        return CreateResult("installed-versions", props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Changed when a version changed."""
        return DiffResult(changes=olds.get("versions") != news.get("versions"))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> Any:
        """The new versions become the record."""
        return pulumi.dynamic.UpdateResult(news)


class InstalledVersions(pulumi.dynamic.Resource, module="kubeflow", name="InstalledVersions"):
    """The versions a stack installs (upstream project -> version), as of its last `up`."""

    versions: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, versions: Mapping[str, str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(InstalledVersionsProvider(), name, {"versions": dict(versions)}, opts)
