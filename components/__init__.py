"""Reusable Pulumi components, one per KubeFlow piece."""

from components.base import ComponentArgs, ComponentArgsError, KubeflowComponent
from components.manifests import ManifestError, ManifestSource, MirrorSource, UpstreamSource
from components.pipelines import KubeflowPipelines, PipelinesArgs

__all__ = [
    "ComponentArgs",
    "ComponentArgsError",
    "KubeflowComponent",
    "KubeflowPipelines",
    "ManifestError",
    "ManifestSource",
    "MirrorSource",
    "PipelinesArgs",
    "UpstreamSource",
]
