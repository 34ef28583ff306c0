"""The kubeflow Pulumi program: settings -> cluster -> platform -> stack outputs."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime.config import (
    CONFIG,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)

from components.transforms import force_ownership
from infra.cluster import build_cluster
from infra.config import decode, load_settings
from infra.kubeflow_platform import KubeflowPlatform, deploy_examples

PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFIX = "kubeflow:"

config = {**get_config_env(), **CONFIG.get()}
raw = {k.removeprefix(PREFIX): v for k, v in config.items() if k.startswith(PREFIX)}
secret_keys = {k for k in config if is_config_secret(k)} | set(get_config_secret_keys_env())
settings = load_settings(
    decode(raw), stack=pulumi.get_stack(), project_dir=PROJECT_DIR, secret_keys=secret_keys
)
for warning in settings.warnings:
    pulumi.log.warn(warning)
if settings.example_pipelines is not None and settings.cluster.mode == "local":
    from infra.kfp_server_resource import local_api_port

    local_api_port(settings.example_pipelines.api_url)  # a bad apiUrl stops before anything
cluster = build_cluster(settings.cluster, keeps_data=settings.cluster_keeps_data)
platform = KubeflowPlatform(
    "kubeflow",
    settings.component_args,
    extra_transforms=[*cluster.transforms, *([force_ownership] if settings.repair_drift else [])],
    opts=pulumi.ResourceOptions(provider=cluster.provider),
)
pulumi.export("cluster", cluster.outputs)
pulumi.export("components", platform.summary)
if settings.example_pipelines is not None:
    local_api: list[pulumi.Resource] = []
    if settings.cluster.mode == "local" and settings.cluster.local_dir is not None:
        # Simulated KFP pods serve nothing: the stack runs the real KFP API server at apiUrl.
        from infra.kfp_server_resource import serve_example_api

        kfp = platform.components.get("pipelines")
        local_api.append(
            serve_example_api(
                settings.example_pipelines.api_url,
                settings.cluster.local_dir,
                cluster.outputs["kubeconfig"],
                kfp.resolved_namespace if kfp else "kubeflow",
            )
        )
    pulumi.export("pipelines", deploy_examples(settings.example_pipelines, platform, local_api))
