"""Reusable Pulumi components, one per KubeFlow piece."""

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.central_dashboard import CentralDashboard, CentralDashboardArgs
from components.cert_manager import CertManager, CertManagerArgs
from components.katib import Katib, KatibArgs
from components.kserve import KServe, KServeArgs
from components.manifests import ManifestError, ManifestSource, MirrorSource
from components.model_registry import ModelRegistry, ModelRegistryArgs
from components.notebooks import Notebooks, NotebooksArgs
from components.pipelines import KubeflowPipelines, PipelinesArgs
from components.spark_operator import SparkOperator, SparkOperatorArgs
from components.training_operator import TrainingOperator, TrainingOperatorArgs
from components.upstream import UpstreamSource
from components.validation import ComponentArgsError

__all__ = [
    "CentralDashboard",
    "CentralDashboardArgs",
    "CertManager",
    "CertManagerArgs",
    "ComponentArgs",
    "ComponentArgsError",
    "KServe",
    "KServeArgs",
    "Katib",
    "KatibArgs",
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
    "TrainingOperator",
    "TrainingOperatorArgs",
    "UpstreamSource",
]
