"""Kubeflow Central Dashboard: the web UI that frames the other Kubeflow apps.

Upstream: the dashboard manifests kubeflow/manifests vendors from kubeflow/kubeflow v1.10.0
(`applications/centraldashboard/upstream`): `base` is the dashboard alone, `overlays/istio`
adds its Istio VirtualService and AuthorizationPolicy, `overlays/kserve` adds a KServe menu
entry on top of the istio overlay. A manifest mirror holds the istio and kserve renders;
without Istio their Istio objects are left out.

Without Istio, Dex and profiles (the default here) the UI serves on its Service (port-forward
`svc/centraldashboard 8080:80`) with no login and no per-user namespaces; the menu links to
other apps (`/pipeline/`, `/jupyter/`, ...) need the Istio gateway that routes them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import (
    KubeObject,
    ManifestPart,
    ManifestSource,
    MirrorSource,
    github_kustomize,
)
from components.objects import api_group
from components.transforms import Transform
from components.validation import flag_errors

MANIFESTS_REPO = "kubeflow/manifests"


@dataclass(frozen=True)
class DashboardSource:
    """Where kubeflow/manifests vendors one dashboard version, and what its objects are named."""

    release: str
    """The kubeflow/manifests release tag."""
    folder: str
    """The dashboard kustomize root in that release."""
    service: str
    """The name of the UI's Service (and of the dashboard's other objects)."""


DASHBOARD_SOURCES = {
    "v1.10.0": DashboardSource(
        "26.03", "applications/centraldashboard/upstream", "centraldashboard"
    ),
    "v2.0.0": DashboardSource(
        "26.03.1", "applications/dashboard/upstream/centraldashboard", "dashboard"
    ),
}
"""Dashboard version -> its source. v2.0.0 renamed every object to `dashboard` and moved
the manifests in kubeflow/manifests."""
DASHBOARD_NAMESPACE = "kubeflow"
"""The namespace the manifests use."""


def dashboard_part(source: DashboardSource, *, istio: bool, kserve_menu: bool) -> ManifestPart:
    """The kustomization for these settings, pinned to a kubeflow/manifests release.

    The mirror has no Istio-free render: it holds the istio overlay (or the kserve one) and
    the component leaves the Istio objects out.
    """
    overlay = "overlays/kserve" if kserve_menu else "overlays/istio" if istio else "base"
    path = f"{source.folder}/{overlay}"
    mirror_file = "kserve.yaml" if kserve_menu else "istio.yaml"
    url = github_kustomize(MANIFESTS_REPO, path, source.release)
    return ManifestPart("dashboard", url, "kustomize", mirror_file)


DASHBOARD_VERSIONS = {
    version: (dashboard_part(source, istio=False, kserve_menu=False),)
    for version, source in DASHBOARD_SOURCES.items()
}


@dataclass
class CentralDashboardArgs(ComponentArgs):
    """Settings of a Central Dashboard install; the defaults install v1.10.0 into `kubeflow`
    without Istio, creating the namespace unless another component does."""

    istio: bool = False
    """Keep the Istio objects (VirtualService on the `kubeflow/kubeflow-gateway` gateway,
    AuthorizationPolicy for the ingress gateway); needs Istio and its CRDs installed first."""
    kserve_menu: bool = False
    """Show the KServe Endpoints menu entry (the kserve overlay). With the pinned upstream it
    needs `istio`, since upstream builds that overlay on the istio one."""


class CentralDashboard(KubeflowComponent):
    """Kubeflow Central Dashboard, by default without Istio, Dex or profiles."""

    COMPONENT = "centraldashboard"
    TYPE = "kubeflow:components:CentralDashboard"
    DEFAULT_VERSION = "v1.10.0"
    UPSTREAM_NAMESPACE = DASHBOARD_NAMESPACE
    VERSIONS = DASHBOARD_VERSIONS

    args: CentralDashboardArgs
    ui_service: pulumi.Output[str]
    """In-cluster address of the UI (`centraldashboard.<ns>.svc:80`)."""

    def __init__(
        self,
        name: str,
        args: CentralDashboardArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or CentralDashboardArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """Flags true or false; upstream has no kserve overlay without Istio (a mirror render
        can drop Istio)."""
        if not isinstance(args, CentralDashboardArgs):
            return []
        errors = flag_errors(
            "centraldashboard",
            {
                "istio": args.istio,
                "kserveMenu": args.kserve_menu,
            },
        )
        if args.kserve_menu and not args.istio and not isinstance(args.source, MirrorSource):
            errors.append(
                "centraldashboard: kserveMenu without istio cannot be installed from the pinned "
                "upstream (its kserve overlay includes the istio overlay); fix: set istio: true, "
                "or unset kserveMenu, or install from a manifest mirror"
            )
        return errors

    def manifest_parts(self, source: ManifestSource) -> tuple[ManifestPart, ...]:
        """The overlay for the istio and kserveMenu settings."""
        args = self.args
        dashboard = self.source_of_version()
        return (dashboard_part(dashboard, istio=args.istio, kserve_menu=args.kserve_menu),)

    def source_of_version(self) -> DashboardSource:
        """The resolved version's source; a mirror-only version is named like the newest
        known one (only its mirror file name and object names are used)."""
        newest = list(DASHBOARD_SOURCES.values())[-1]
        return DASHBOARD_SOURCES.get(self.resolved_version, newest)

    def include(self, obj: KubeObject) -> bool:
        """Istio objects only with `istio`."""
        return self.args.istio or not api_group(obj).endswith("istio.io")

    def makes_namespace(self) -> bool:
        """The manifests carry no Namespace."""
        return True

    def extra_transforms(self) -> list[Transform]:
        """The VirtualService route follows a namespace change."""
        if not self.args.istio or self.resolved_namespace == DASHBOARD_NAMESPACE:
            return []
        service = self.source_of_version().service
        return [route_to_namespace(service, DASHBOARD_NAMESPACE, self.resolved_namespace)]

    def component_outputs(self) -> dict[str, Any]:
        """Adds the UI service to the common outputs."""
        service = self.source_of_version().service
        self.ui_service = pulumi.Output.from_input(f"{service}.{self.resolved_namespace}.svc:80")
        return {**super().component_outputs(), "ui_service": self.ui_service}


def route_to_namespace(service: str, old: str, new: str) -> Transform:
    """Point the dashboard VirtualService at the Service in `new` (upstream names `old`)."""
    old_host, new_host = f"{service}.{old}.svc", f"{service}.{new}.svc"

    def apply(obj: KubeObject) -> KubeObject:
        if obj["kind"] != "VirtualService":
            return obj
        obj = copy.deepcopy(obj)
        for http in (obj.get("spec") or {}).get("http") or []:
            for route in http.get("route") or []:
                destination = route.get("destination") or {}
                host = str(destination.get("host", ""))
                if host.startswith(old_host):
                    destination["host"] = new_host + host.removeprefix(old_host)
        return obj

    return apply
