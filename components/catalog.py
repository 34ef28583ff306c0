"""Which components exist, what each needs, and how stack config names them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from components.base import ComponentArgs, KubeflowComponent
from components.central_dashboard import CentralDashboard, CentralDashboardArgs
from components.cert_manager import CertManager, CertManagerArgs
from components.katib import Katib, KatibArgs
from components.kserve import KServe, KServeArgs
from components.model_registry import ModelRegistry, ModelRegistryArgs
from components.notebooks import Notebooks, NotebooksArgs
from components.pipelines import KubeflowPipelines, PipelinesArgs
from components.spark_operator import SparkOperator, SparkOperatorArgs
from components.training_operator import TrainingOperator, TrainingOperatorArgs


@dataclass(frozen=True)
class CatalogEntry:
    """One installable component."""

    component_id: str
    """The name used in `kubeflow:components` (e.g. `pipelines`)."""
    config_key: str
    """The stack config key of its settings (e.g. `pipelines` -> `kubeflow:pipelines`)."""
    cls: type[KubeflowComponent]
    args_cls: type[ComponentArgs]
    requires: tuple[str, ...] = ()
    """Components that must be installed first (and enabled in the same stack)."""
    after: tuple[str, ...] = ()
    """Components installed first when they are enabled too, e.g. those whose manifests
    create the namespace this one shares."""


_KUBEFLOW_CREATORS = ("pipelines", "katib", "training-operator")
"""Components whose upstream manifests create the `kubeflow` namespace."""

CATALOG: dict[str, CatalogEntry] = {
    entry.component_id: entry
    for entry in (
        CatalogEntry("pipelines", "pipelines", KubeflowPipelines, PipelinesArgs),
        # serving and tuning
        CatalogEntry("cert-manager", "certManager", CertManager, CertManagerArgs),
        CatalogEntry("katib", "katib", Katib, KatibArgs, after=("pipelines",)),
        CatalogEntry(
            "training-operator",
            "trainingOperator",
            TrainingOperator,
            TrainingOperatorArgs,
            after=("pipelines", "katib"),
        ),
        CatalogEntry("kserve", "kserve", KServe, KServeArgs, requires=("cert-manager",)),
        # data and notebooks
        CatalogEntry("spark-operator", "sparkOperator", SparkOperator, SparkOperatorArgs),
        CatalogEntry(
            "model-registry",
            "modelRegistry",
            ModelRegistry,
            ModelRegistryArgs,
            after=(*_KUBEFLOW_CREATORS, "central-dashboard"),
        ),
        CatalogEntry("notebooks", "notebooks", Notebooks, NotebooksArgs),
        CatalogEntry(
            "central-dashboard",
            "centralDashboard",
            CentralDashboard,
            CentralDashboardArgs,
            after=_KUBEFLOW_CREATORS,
        ),
    )
}


def install_order(enabled: list[str]) -> list[str]:
    """`enabled` sorted so every component comes after what it requires or is installed
    after (stable otherwise)."""
    ordered: list[str] = []

    def visit(component_id: str) -> None:
        if component_id in ordered:
            return
        entry = CATALOG[component_id]
        for dependency in (*entry.requires, *entry.after):
            if dependency in enabled:
                visit(dependency)
        ordered.append(component_id)

    for component_id in enabled:
        visit(component_id)
    return ordered


def share_namespaces(
    component_args: Mapping[str, ComponentArgs],
) -> tuple[dict[str, ComponentArgs], list[str]]:
    """Settle which component creates a namespace that several run in.

    A component whose `create_namespace` is None creates its namespace only when no
    component installed before it runs there (that one created it, or needed it to exist).
    Set to true there, it would be a second owner of one Namespace (deleting either
    component would delete it): that is returned as a problem.
    """
    settled: dict[str, ComponentArgs] = {}
    problems: list[str] = []
    first_in: dict[str, str] = {}
    for component_id in install_order(list(component_args)):
        entry = CATALOG[component_id]
        args = component_args[component_id]
        namespace = args.namespace or entry.cls.upstream_namespace(args) or "default"
        earlier = first_in.setdefault(namespace, component_id)
        if args.create_namespace is None:
            args = dataclasses.replace(args, create_namespace=earlier == component_id)
        elif args.create_namespace and earlier != component_id:
            problems.append(
                f"kubeflow:{entry.config_key}.createNamespace is true, but {earlier} (installed "
                f"before it) runs in namespace {namespace!r} already; fix: unset createNamespace"
            )
        settled[component_id] = args
    return settled, problems
