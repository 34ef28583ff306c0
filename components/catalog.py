"""Which components exist, what each needs, and how stack config names them."""

from __future__ import annotations

from dataclasses import dataclass

from components.base import ComponentArgs, KubeflowComponent
from components.pipelines import KubeflowPipelines, PipelinesArgs


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


CATALOG: dict[str, CatalogEntry] = {
    entry.component_id: entry
    for entry in (
        CatalogEntry("pipelines", "pipelines", KubeflowPipelines, PipelinesArgs),
        # serving and tuning: cert-manager, katib, training-operator, kserve
        # data and notebooks: spark-operator, model-registry, notebooks, central-dashboard
    )
}


def install_order(enabled: list[str]) -> list[str]:
    """`enabled` sorted so every component comes after what it requires (stable otherwise)."""
    ordered: list[str] = []

    def visit(component_id: str) -> None:
        if component_id in ordered:
            return
        for dependency in CATALOG[component_id].requires:
            if dependency in enabled:
                visit(dependency)
        ordered.append(component_id)

    for component_id in enabled:
        visit(component_id)
    return ordered
