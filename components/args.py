"""The settings every KubeFlow component takes (`ComponentArgs`); a component's own args
subclass it. The checks of these settings live in `components.validation`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.manifests import KubeObject, ManifestSource
from components.transforms import Transform

__all__ = ["ComponentArgs"]


@dataclass
class ComponentArgs:
    """Settings every component takes; each has a default that installs upstream as is (the
    field descriptions of CRD schemas aside: `crd_descriptions`)."""

    version: str | None = None
    """Upstream version; None means the release's version, else the component's default. Must
    be in its version table unless `source` is a mirror that holds it."""
    release: str | None = None
    """Kubeflow release preset (e.g. `26.03.1`, see `components.releases`): sets the default
    version to the one that release installs; `version` still wins."""
    namespace: str | None = None
    """Namespace to install into; None keeps the upstream namespace."""
    create_namespace: bool | None = None
    """Whether the component installs its namespace (the Namespace its manifests carry, or
    one it makes when they carry none): false leaves it to another component or the user.
    None: the platform settles it (`components.catalog.share_namespaces`): created unless a
    component installed before it runs there."""
    source: ManifestSource | None = None
    """Where manifests come from; None means the pinned upstream."""
    image_registry: str | None = None
    """Private registry every image is pulled from, keeping repository path and tag."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels added to every object."""
    replicas: Mapping[str, int] = field(default_factory=dict)
    """Replica counts by Deployment/StatefulSet name."""
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Container requests/limits by workload name."""
    transforms: Sequence[Transform] = ()
    """Escape hatch: more transforms, applied after the ones above."""
    exclude: Sequence[Callable[[KubeObject], bool]] = ()
    """Upstream objects not to install (from any source), e.g. the bundled object store when
    artifacts go to S3."""
    keep_data: bool | None = None
    """Keep the objects that hold users' data (CRDs, PersistentVolumeClaims, Namespaces) in
    the cluster when they leave the stack: removing the component, a version that drops them,
    a replace or `destroy` take them out of the stack's state only (Pulumi `retainOnDelete`).
    None: keep (a stack's config decides by its cluster mode)."""
    keep_namespace: bool | None = None
    """Keep the Namespaces the component installs when they leave the stack, whatever its own
    `keep_data`: deleting a Namespace deletes every object in it, so one that another
    component keeps its data in must stay. None: as `keep_data` (KubeflowPlatform sets it for
    the component that creates a namespace others run in: `catalog.share_namespaces`)."""
    delete_with_namespace: bool = True
    """Whether built-in objects in a Namespace the stack deletes go with it (Pulumi
    `deletedWith`) instead of each being deleted on its own. False where each delete must
    reach its object: a provider that renders YAML (render mode) removes an object's file
    only when it deletes it (the stack config sets it for `cluster: render`)."""
    crd_descriptions: bool = False
    """Keep the field descriptions in the schemas of the CRDs the component installs (what
    `kubectl explain` shows). Off: they are left out (`components.crd_docs`), which makes
    every `up`, `preview` and `destroy` faster and changes no validation."""
    shared_namespaces: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Namespaces other components (or the program) install, by name (KubeflowPlatform
    passes those of the components before this one; from Python, another component's
    `namespace_resources`): this component's objects in one wait for it (and for nothing
    else of the component that installs it), and, where a component installs it and does not
    keep it, its built-in objects there go in one go with it when both are deleted
    (`deleted_with_namespace`)."""
    siblings: Sequence[tuple[str, str]] = ()
    """(type, name) of the components that may stand beside this one under the same parent
    (KubeflowPlatform passes the catalog's): which of them creates a namespace several run
    in depends on which are enabled (`catalog.share_namespaces`), and a Namespace that moves
    from one to another keeps its resource, and the live namespace with everything in it,
    through aliases, instead of a create under the new one and a delete under the old."""
    requires: Sequence[pulumi.Resource] = ()
    """What this component's workloads, webhook configurations and custom resources wait for,
    e.g. the CertManager component for KServe (KubeflowPlatform passes the components of the
    catalog's `requires`); its Namespaces, the built-in objects that run nothing and its CRDs
    go ahead without them. Depending on a component is depending on everything it installs.
    (A component's own `depends_on` holds back all of its objects.)"""
