"""KubeflowPlatform: the enabled components, built in dependency order."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.catalog import CATALOG, install_order, missing_requirements, share_namespaces
from components.transforms import Transform
from components.upstream import UpstreamSource
from components.validation import ComponentArgsError
from infra.pipeline_settings import ExamplePipelines
from infra.version_guard import InstalledVersions


class KubeflowPlatform(pulumi.ComponentResource):
    """Every enabled component, side by side: a component's objects in a namespace another
    creates wait for that Namespace, and its workloads and what comes after them for the
    components it requires (`ComponentArgs.requires`)."""

    components: dict[str, KubeflowComponent]
    """The installed components by id."""
    summary: pulumi.Output[dict[str, Any]]
    """Per component: version, namespace and its endpoints."""

    def __init__(
        self,
        name: str,
        component_args: Mapping[str, ComponentArgs],
        extra_transforms: Sequence[Transform] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`component_args` maps enabled component ids to their args; `extra_transforms`
        apply to every component (e.g. the local cluster's webhook policy)."""
        upstream = UpstreamSource()  # one for all: what the checks load, the installs use
        component_args, problems = share_namespaces(
            {
                cid: args if args.source is not None else dataclasses.replace(args, source=upstream)
                for cid, args in component_args.items()
            }
        )
        problems += [  # every component's, so a bad one stops the platform before any registers
            f"{component_id}: {problem}"
            for component_id, args in component_args.items()
            for problem in CATALOG[component_id].cls.problems(args)
        ]
        problems += [
            f"KubeflowPlatform: {component_id!r} needs {dependency!r}; fix: add {dependency!r} "
            f"to the component args"
            for component_id, dependency in missing_requirements(component_args)
        ]
        if problems:
            raise ComponentArgsError("\n".join(problems))
        super().__init__("kubeflow:platform:KubeflowPlatform", name, None, opts)
        self.components = {}
        ordered = install_order(list(component_args))
        projects = {
            cid: (
                CATALOG[cid].cls.mirror_folder(component_args[cid]),
                CATALOG[cid].cls.version_for(component_args[cid]),
            )
            for cid in ordered
        }
        installed = InstalledVersions(
            f"{name}-versions",
            dict(projects.values()),
            pulumi.ResourceOptions(parent=self),
        )
        namespaces: dict[str, pulumi.Resource] = {}
        for component_id in ordered:
            entry = CATALOG[component_id]
            args = component_args[component_id]
            annotate = installed.version_annotation(*projects[component_id])
            args = dataclasses.replace(
                args,
                transforms=[*args.transforms, *extra_transforms, annotate],
                shared_namespaces={**namespaces, **args.shared_namespaces},
                siblings=[(e.cls.TYPE, cid) for cid, e in CATALOG.items() if cid != component_id],
                requires=[*args.requires, *(self.components[d] for d in entry.requires)],
            )
            self.components[component_id] = entry.cls(
                component_id, args, pulumi.ResourceOptions(parent=self, depends_on=[installed])
            )
            namespaces.update(self.components[component_id].namespace_resources)
        self.summary = pulumi.Output.all(
            **{cid: pulumi.Output.all(**c.outputs) for cid, c in self.components.items()}
        )
        self.register_outputs({"summary": self.summary})


def deploy_examples(
    examples: ExamplePipelines, platform: KubeflowPlatform, after: Sequence[pulumi.Resource] = ()
) -> dict[str, Any]:
    """Upload the example pipelines to KFP once the platform (and ``after``: the local stack's
    own KFP API server) is up; their IDs and links as outputs."""
    from pipelines.deploy import deploy_example_pipelines

    token = pulumi.Output.secret(examples.token) if examples.token else None
    deployed = deploy_example_pipelines(
        examples.api_url,
        examples.ui_url,
        opts=pulumi.ResourceOptions(depends_on=[platform, *after]),
        token=token,
        examples=list(examples.pipelines),
    )
    return {
        key: {
            "name": pipeline.name,
            "pipeline_id": pipeline.pipeline_id,
            "version_id": pipeline.version_id,
            "digest": pipeline.digest,
            "ui_url": pipeline.ui_url,
            "api_link": pipeline.api_link,
        }
        for key, pipeline in deployed.items()
    }
