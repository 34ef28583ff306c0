"""Which components exist, what each needs, and how stack config names them: a component's
settings are under `kubeflow:<component id>` (formerly camelCase: data/renamed_settings.yaml)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.args import ComponentArgs
from components.base import KubeflowComponent
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
    """The name used in `kubeflow:components` and the stack config key of its settings
    (e.g. `cert-manager` -> `kubeflow:cert-manager`)."""
    cls: type[KubeflowComponent]
    args_cls: type[ComponentArgs]
    requires: tuple[str, ...] = ()
    """Components that must be enabled in the same stack and installed before this one's
    workloads, webhook configurations and custom resources (`ComponentArgs.requires`)."""
    after: tuple[str, ...] = ()
    """Components placed before this one when they are enabled too: those whose manifests
    create the namespace this one shares. Its objects there wait for that Namespace only
    (`ComponentArgs.shared_namespaces`), not for the rest of the component."""


_KUBEFLOW_CREATORS = ("pipelines", "katib", "training-operator")
"""Components whose upstream manifests create the `kubeflow` namespace."""

CATALOG: dict[str, CatalogEntry] = {
    entry.component_id: entry
    for entry in (
        CatalogEntry("pipelines", KubeflowPipelines, PipelinesArgs),
        # serving and tuning
        CatalogEntry("cert-manager", CertManager, CertManagerArgs),
        CatalogEntry("katib", Katib, KatibArgs, after=("pipelines",)),
        CatalogEntry(
            "training-operator",
            TrainingOperator,
            TrainingOperatorArgs,
            after=("pipelines", "katib"),
        ),
        CatalogEntry("kserve", KServe, KServeArgs, requires=("cert-manager",)),
        # data and notebooks
        CatalogEntry("spark-operator", SparkOperator, SparkOperatorArgs),
        CatalogEntry(
            "model-registry",
            ModelRegistry,
            ModelRegistryArgs,
            after=(*_KUBEFLOW_CREATORS, "central-dashboard"),
        ),
        CatalogEntry("notebooks", Notebooks, NotebooksArgs),
        CatalogEntry(
            "central-dashboard", CentralDashboard, CentralDashboardArgs, after=_KUBEFLOW_CREATORS
        ),
    )
}


RENAMED_SETTINGS_FILE = Path(__file__).with_name("data") / "renamed_settings.yaml"


@cache
def renamed_settings() -> dict[str, str]:
    """Old stack config key of a component's settings -> its component id, the new key."""
    with RENAMED_SETTINGS_FILE.open(encoding="utf-8") as stream:
        return {str(old): str(new) for old, new in yaml.safe_load(stream).items()}


def under_new_keys(
    raw: Mapping[str, Any], stack: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """`raw` with each renamed key under its new name; a warning for each, naming both keys,
    and an error for each renamed key set under both names."""
    current = {key: value for key, value in raw.items() if key not in renamed_settings()}
    warnings: list[str] = []
    errors: list[str] = []
    for old, new in renamed_settings().items():
        if old not in raw:
            continue
        if new in raw:
            errors.append(
                f"kubeflow:{old} and kubeflow:{new} are both set, and kubeflow:{old} is the old "
                f"name of kubeflow:{new}; fix: move the settings of kubeflow:{old} into "
                f"kubeflow:{new} and remove kubeflow:{old}"
            )
            continue
        current[new] = raw[old]
        warnings.append(
            f"kubeflow:{old} is renamed kubeflow:{new} (the component id); its settings are "
            f"used for now, but kubeflow:{old} will be removed in a later release; fix: rename "
            f"it to kubeflow:{new} in stacks/Pulumi.{stack}.yaml"
        )
    return current, warnings, errors


def idle_settings(raw: Mapping[str, Any], enabled: Iterable[str]) -> list[str]:
    """A warning for each component whose settings are set though it is not enabled: kept to
    enable it again later, or a component left out by mistake; either way they install
    nothing, and a user should see that."""
    return [
        f"kubeflow:{cid} is set, but {cid} is not in kubeflow:components, so its settings apply "
        f"to nothing; fix: add {cid} to kubeflow:components to install it, or remove "
        f"kubeflow:{cid}"
        for cid in CATALOG
        if cid in raw and cid not in set(enabled)
    ]


def missing_requirements(enabled: Iterable[str]) -> list[tuple[str, str]]:
    """(component, the component it requires) for each requirement `enabled` lacks."""
    known = [c for c in dict.fromkeys(enabled) if c in CATALOG]
    return [(c, d) for c in known for d in CATALOG[c].requires if d not in known]


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

    The same holds for the namespaces a component creates besides its own
    (`other_namespaces`: the Spark Operator's job namespaces): the first component in the
    install order to run in one makes it, and those after it wait for its Namespace.

    The component that creates a namespace keeps its Namespaces (`keep_namespace`, unless
    set) when any component running in one keeps its data: deleting the Namespace would
    delete that data with it, whatever the creator's own `keep_data`.
    """
    settled: dict[str, ComponentArgs] = {}
    problems: list[str] = []
    first_in: dict[str, str] = {}
    namespaces: dict[str, str] = {}
    for component_id in install_order(list(component_args)):
        entry = CATALOG[component_id]
        args = component_args[component_id]
        namespace = args.namespace or entry.cls.upstream_namespace(args) or "default"
        namespaces[component_id] = namespace
        earlier = first_in.setdefault(namespace, component_id)
        if args.create_namespace is None:
            args = dataclasses.replace(args, create_namespace=earlier == component_id)
        elif args.create_namespace and earlier != component_id:
            problems.append(
                f"kubeflow:{component_id}.createNamespace is true, but {earlier} (installed "
                f"before it) runs in namespace {namespace!r} already; fix: unset createNamespace"
            )
        settled[component_id] = args
        for other in entry.cls.other_namespaces(args):
            first_in.setdefault(other, component_id)
    keeps = {ns for cid, ns in namespaces.items() if settled[cid].keep_data is not False}
    made = {cid: {ns for ns, first in first_in.items() if first == cid} for cid in settled}
    return {
        cid: args
        if args.keep_namespace is not None or not args.create_namespace
        else dataclasses.replace(args, keep_namespace=bool(made[cid] & keeps))
        for cid, args in settled.items()
    }, problems
