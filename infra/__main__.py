"""The kubeflow Pulumi program: settings -> cluster -> platform -> stack outputs."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime.config import CONFIG

from infra.cluster import build_cluster
from infra.config import decode, load_settings
from infra.platform import KubeflowPlatform

PROJECT_DIR = Path(__file__).resolve().parent.parent

raw = {k.removeprefix("kubeflow:"): v for k, v in CONFIG.get().items() if k.startswith("kubeflow:")}
settings = load_settings(decode(raw), stack=pulumi.get_stack(), project_dir=PROJECT_DIR)
cluster = build_cluster(settings.cluster)
platform = KubeflowPlatform(
    "kubeflow",
    settings.component_args,
    extra_transforms=cluster.transforms,
    opts=pulumi.ResourceOptions(provider=cluster.provider),
)
pulumi.export("cluster", cluster.outputs)
pulumi.export("components", platform.summary)
