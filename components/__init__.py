"""Reusable Pulumi components, one per KubeFlow piece."""

from components.base import ComponentArgs, ComponentArgsError, KubeflowComponent
from components.central_dashboard import CentralDashboard, CentralDashboardArgs
from components.manifests import ManifestError, ManifestSource, MirrorSource, UpstreamSource
from components.model_registry import ModelRegistry, ModelRegistryArgs
from components.notebooks import Notebooks, NotebooksArgs
from components.pipelines import KubeflowPipelines, PipelinesArgs
from components.spark_operator import SparkOperator, SparkOperatorArgs

__all__ = [
    "CentralDashboard",
    "CentralDashboardArgs",
    "ComponentArgs",
    "ComponentArgsError",
    "KubeflowComponent",
    "KubeflowPipelines",
    "ManifestError",
    "ManifestSource",
    "MirrorSource",
    "ModelRegistry",
    "ModelRegistryArgs",
    "Notebooks",
    "NotebooksArgs",
    "PipelinesArgs",
    "SparkOperator",
    "SparkOperatorArgs",
    "UpstreamSource",
]
