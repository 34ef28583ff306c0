"""The contract every KubeFlow component follows.

A component is a `pulumi.ComponentResource` built from a table of known
versions. Each version is an ordered list of manifest parts; each part comes
from the pinned upstream (rendered by the Kubernetes provider) or from a
mirror folder (read here). Objects are customised by transforms and applied in
an explicit order: Namespaces and CRDs, then built-in objects (including the
webhook Deployments the provider waits on until Available), then the webhook
configurations, then custom resources. Each part waits for the part before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from components.manifests import (
    KubeObject,
    ManifestError,
    ManifestPart,
    ManifestSource,
    MirrorSource,
    UpstreamSource,
)
from components.transforms import (
    CLUSTER_SCOPED_KINDS,
    Transform,
    add_labels,
    compose,
    is_valid_registry,
    rewrite_images,
    set_namespace,
    set_replicas,
    set_resources,
)

BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


class ComponentArgsError(ValueError):
    """Component arguments that cannot install a working component."""


@dataclass
class ComponentArgs:
    """Settings every component takes; each has a default that installs upstream as is."""

    version: str | None = None
    """Upstream version; None means the component's default. Must be in its version table
    unless `source` is a mirror that holds it."""
    namespace: str | None = None
    """Namespace to install into; None keeps the upstream namespace."""
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
    """Upstream objects not to install (mirror sources only), e.g. the bundled object store
    when artifacts go to S3."""


def validate_common(args: ComponentArgs, versions: Mapping[str, Any], component: str) -> list[str]:
    """Every problem with the common settings, each naming the setting and the fix."""
    errors: list[str] = []
    if (
        args.version is not None
        and args.version not in versions
        and not isinstance(args.source, MirrorSource)
    ):
        known = ", ".join(versions)
        errors.append(
            f"{component}: version {args.version!r} is not a known version ({known}); fix: choose "
            "one of those, or set a manifest mirror that holds this version"
        )
    if args.namespace is not None and not (
        _DNS_LABEL.match(args.namespace) and len(args.namespace) <= 63
    ):
        errors.append(
            f"{component}: namespace {args.namespace!r} is not a valid Kubernetes namespace name; "
            "fix: use lower-case letters, digits and '-', at most 63 characters"
        )
    if args.image_registry is not None and not is_valid_registry(args.image_registry):
        errors.append(
            f"{component}: image registry {args.image_registry!r} is not a registry reference; "
            "fix: use host[:port][/path], e.g. registry.example.com/kubeflow"
        )
    errors.extend(_label_errors(component, args.labels))
    for name, count in args.replicas.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            errors.append(
                f"{component}: replicas[{name!r}] = {count!r} is not a non-negative integer; "
                "fix: give a whole number such as 2"
            )
    for name, requirements in args.resources.items():
        errors.extend(_resource_errors(component, name, requirements))
    return errors


def flag_errors(component: str, flags: Mapping[str, object]) -> list[str]:
    """Problems with settings that must be true or false (None: unset), by camelCase name;
    stack config can hand over a string such as "false", which would read as true."""
    return [
        f"{component}: {name} = {value!r} is not true or false; fix: use true or false"
        for name, value in flags.items()
        if value is not None and not isinstance(value, bool)
    ]


def _label_errors(component: str, labels: Mapping[str, str]) -> list[str]:
    errors = []
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            errors.append(f"{component}: label key {key!r} is invalid; fix: use [prefix/]name")
        if not isinstance(value, str) or not _LABEL_VALUE.match(value) or len(value) > 63:
            errors.append(
                f"{component}: label {key}={value!r} has an invalid value; fix: use a string of "
                "at most 63 letters, digits, '-', '_' or '.'"
            )
    return errors


def _resource_errors(component: str, workload: str, requirements: Any) -> list[str]:
    if not isinstance(requirements, Mapping) or not set(requirements) <= {"requests", "limits"}:
        return [
            f"{component}: resources[{workload!r}] must be a mapping with 'requests' and/or "
            "'limits'; fix: e.g. {requests: {cpu: 500m, memory: 512Mi}}"
        ]
    errors = []
    for section, quantities in requirements.items():
        for resource, quantity in (quantities or {}).items():
            if not _QUANTITY.match(str(quantity)):
                errors.append(
                    f"{component}: resources[{workload!r}].{section}.{resource} = {quantity!r} is "
                    "not a Kubernetes quantity; fix: e.g. 500m, 2, 512Mi, 1Gi"
                )
    return errors


def api_group(obj: Mapping[str, Any]) -> str:
    """The API group of an object ('' for the core group)."""
    api_version = str(obj["apiVersion"])
    return api_version.rpartition("/")[0]


def type_token(obj: Mapping[str, Any]) -> str:
    """The Pulumi Kubernetes type token of an object, e.g. `kubernetes:apps/v1:Deployment`."""
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{obj['kind']}"


def install_tier(obj: Mapping[str, Any]) -> int:
    """0: Namespaces and CRDs; 1: other built-in objects, and cert-manager Issuers and
    Certificates (Deployments of tier 1 mount the Secrets they issue); 2: webhook
    configurations, once the Deployments serving them are Available (a pod webhook registered
    earlier blocks its own server's pods); 3: custom resources."""
    kind = obj["kind"]
    if kind in ("Namespace", "CustomResourceDefinition"):
        return 0
    if kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        return 2
    if api_group(obj) == "cert-manager.io" and kind in ("Issuer", "Certificate"):
        return 1
    return 1 if api_group(obj) in BUILTIN_GROUPS else 3


def resource_name(prefix: str, obj: Mapping[str, Any]) -> str:
    """A stable Pulumi name: `<prefix>:<namespace>/<name>` (no namespace when cluster-scoped)."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    return f"{prefix}:{namespace}/{name}" if namespace else f"{prefix}:{name}"


def namespace_object(name: str) -> KubeObject:
    """A Namespace, for components whose upstream leaves creating it to the user."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


class KubernetesObject(pulumi.CustomResource):
    """Any Kubernetes object, applied by the Kubernetes provider from its manifest."""

    def __init__(self, name: str, obj: KubeObject, opts: pulumi.ResourceOptions) -> None:
        props: dict[str, Any] = dict(obj)
        if str(obj.get("kind", "")).endswith("Patch") and api_group(obj) in BUILTIN_GROUPS:
            # A <Kind>Patch resource applies to a <Kind>: the API server knows only that kind.
            props["kind"] = str(obj["kind"]).removesuffix("Patch")
        if obj.get("kind") == "Secret" and api_group(obj) == "":
            for key in ("data", "stringData"):
                if key in props:
                    props[key] = pulumi.Output.secret(props[key])
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
            )
        super().__init__(type_token(obj), name, props, opts)


def as_resource_transform(transform: Transform) -> pulumi.ResourceTransform:
    """Run an object transform on the Kubernetes objects a provider-side component renders."""

    def apply(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        props = args.props
        if not args.type_.startswith("kubernetes:") or "kind" not in props:
            return None
        return pulumi.ResourceTransformResult(props=transform(dict(props)), opts=args.opts)

    return apply


class KubeflowComponent(pulumi.ComponentResource):
    """Base of every component: versions table -> manifests -> transforms -> objects."""

    COMPONENT: ClassVar[str]
    """Folder name of the component in a manifest mirror (e.g. `kfp`)."""
    TYPE: ClassVar[str]
    """Pulumi type token of the component resource."""
    DEFAULT_VERSION: ClassVar[str]
    UPSTREAM_NAMESPACE: ClassVar[str | None]
    """Namespace the upstream manifests use; None when they set none."""
    VERSIONS: ClassVar[Mapping[str, tuple[ManifestPart, ...]]]

    version: pulumi.Output[str]
    """The installed upstream version."""
    namespace: pulumi.Output[str]
    """The namespace the component runs in."""

    def __init__(
        self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        errors = validate_common(args, self.VERSIONS, self.COMPONENT) + self.check(args)
        if errors:
            raise ComponentArgsError("\n".join(errors))
        super().__init__(self.TYPE, name, None, opts)
        self._name = name
        self.args = args
        self.resolved_version = args.version or self.DEFAULT_VERSION
        self.resolved_namespace = args.namespace or self.upstream_namespace(args) or "default"
        self.objects: list[pulumi.Resource] = []
        self.parts: list[pulumi.Resource] = []
        self._install(args.source or UpstreamSource())
        self.version = pulumi.Output.from_input(self.resolved_version)
        self.namespace = pulumi.Output.from_input(self.resolved_namespace)
        self.outputs = self.component_outputs()
        self.register_outputs(self.outputs)

    def component_outputs(self) -> dict[str, Any]:
        """Outputs registered for the component; override to add (and set) more."""
        return {"version": self.version, "namespace": self.namespace}

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """Component-specific argument problems; override to add some."""
        return []

    @classmethod
    def upstream_namespace(cls, args: ComponentArgs) -> str | None:
        """The namespace upstream's manifests use for these args (UPSTREAM_NAMESPACE)."""
        return cls.UPSTREAM_NAMESPACE

    @classmethod
    def mirror_folder(cls, args: ComponentArgs) -> str:
        """The mirror folder of these args' manifests (COMPONENT); override when a setting
        picks another upstream project (e.g. Kubeflow Trainer v2 for the Training Operator)."""
        return cls.COMPONENT

    def transforms(self) -> list[Transform]:
        """The transforms for these args, in the order they apply."""
        args = self.args
        out: list[Transform] = []
        upstream_namespace = self.upstream_namespace(args)
        if upstream_namespace and args.namespace:
            out.append(set_namespace(upstream_namespace, args.namespace))
        elif args.namespace:
            out.append(_default_namespace(args.namespace))
        if args.image_registry:
            out.append(rewrite_images(args.image_registry))
        out += [add_labels(args.labels), set_replicas(args.replicas)]
        out += [set_resources(args.resources), *self.extra_transforms(), *args.transforms]
        return out

    def extra_transforms(self) -> list[Transform]:
        """Transforms a component adds for its own settings (before the user's)."""
        return []

    def keeps(self, obj: KubeObject) -> bool:
        """Whether a mirror object is installed: the component includes it and no
        `exclude` predicate of the args matches it."""
        return self.include(obj) and not any(skip(obj) for skip in self.args.exclude)

    def include(self, obj: KubeObject) -> bool:
        """Whether a mirror object is installed; override to leave some out (e.g. Istio
        objects when Istio is not installed). Upstream renders choose a kustomization instead."""
        return True

    def own_objects(self) -> list[KubeObject]:
        """Objects the component adds to upstream's (e.g. a Namespace upstream leaves to the
        user); transformed like upstream's and applied before every part."""
        return []

    def final_objects(self) -> list[KubeObject]:
        """Objects the component adds after every part (e.g. a ClusterIssuer, which the
        webhook of the parts admits); transformed like upstream's."""
        return []

    def helm_values(self) -> dict[str, Any]:
        """Values for the Helm chart of a `helm` part."""
        return {}

    def manifest_parts(self, source: ManifestSource) -> tuple[ManifestPart, ...]:
        """The parts of the resolved version; a mirror may hold versions not in the table."""
        parts = self.VERSIONS.get(self.resolved_version)
        if parts is not None:
            return parts
        if isinstance(source, MirrorSource):
            folder = source.root / self.mirror_folder(self.args) / self.resolved_version
            files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
            if files:
                return tuple(ManifestPart(f.stem, "", "file", f.name) for f in files)
            raise ManifestError(
                f"{self.COMPONENT}: version {self.resolved_version!r} is not in the version table "
                f"and the mirror has no YAML in {folder}; fix: choose a known version "
                f"({', '.join(self.VERSIONS)}) or render this one into the mirror"
            )
        raise ManifestError(f"{self.COMPONENT}: unknown version {self.resolved_version!r}")

    def _install(self, source: ManifestSource) -> None:
        transform = compose(self.transforms())
        parts = self.manifest_parts(source)
        own = [transform(o) for o in self.own_objects()]
        previous = self._register_part(ManifestPart("own", "", "file", ""), own, [])
        if isinstance(source, MirrorSource):
            parts = self._in_mirror(parts, source)
            folder = self.mirror_folder(self.args)
            loaded = [(p, source.load(folder, self.resolved_version, p)) for p in parts]
            for part, objects in loaded:
                kept = [transform(o) for o in objects if self.keeps(o)]
                previous = self._register_part(part, kept, previous)
        else:
            self._render_upstream(parts, transform, previous)
            previous = self.parts[-1:] or previous
        final = [transform(o) for o in self.final_objects()]
        self._register_part(ManifestPart("final", "", "file", ""), final, previous)

    def _in_mirror(
        self, parts: tuple[ManifestPart, ...], source: MirrorSource
    ) -> tuple[ManifestPart, ...]:
        """`parts` without the optional ones the mirror lacks, each left out with a warning."""
        folder = source.root / self.mirror_folder(self.args) / self.resolved_version
        missing = [p for p in parts if p.mirror_optional and not (folder / p.mirror_file).is_file()]
        kept = tuple(p for p in parts if p not in missing)
        for part in missing:
            pulumi.log.warn(
                f"{self.COMPONENT} {self.resolved_version}: the manifest mirror has no "
                f"{part.mirror_file}, so part {part.name!r} is NOT installed (only "
                f"{', '.join(p.name for p in kept) or 'nothing'}); fix: render it into "
                f"{folder / part.mirror_file}",
                self,
            )
        return kept

    def _register_part(
        self, part: ManifestPart, objects: list[KubeObject], after: list[pulumi.Resource]
    ) -> list[pulumi.Resource]:
        created: list[pulumi.Resource] = []
        waits_on = list(after)
        for tier in (0, 1, 2, 3):
            tier_objects = [o for o in objects if install_tier(o) == tier]
            registered: list[pulumi.Resource] = [
                KubernetesObject(
                    resource_name(f"{self._name}-{part.name}", obj),
                    obj,
                    pulumi.ResourceOptions(parent=self, depends_on=waits_on),
                )
                for obj in tier_objects
            ]
            created += registered
            waits_on = waits_on + registered if registered else waits_on
        self.objects += created
        return created or after

    def _render_upstream(
        self,
        parts: tuple[ManifestPart, ...],
        transform: Transform,
        after: Sequence[pulumi.Resource] = (),
    ) -> None:
        if self.args.exclude:
            pulumi.log.warn(
                f"{self.COMPONENT}: objects cannot be left out of an upstream render; every "
                "upstream object is installed (use a manifest mirror to leave some out)",
                self,
            )
        previous = list(after)
        for part in parts:
            if not part.upstream:
                continue  # mirror-only: a later part renders these objects itself
            opts = pulumi.ResourceOptions(
                parent=self, depends_on=previous, transforms=[as_resource_transform(transform)]
            )
            rendered: pulumi.Resource
            if part.upstream_kind == "kustomize":
                rendered = k8s.kustomize.v2.Directory(
                    f"{self._name}-{part.name}", directory=part.upstream, opts=opts
                )
            elif part.upstream_kind == "helm":
                rendered = k8s.helm.v4.Chart(
                    f"{self._name}-{part.name}",
                    chart=part.chart,
                    version=part.chart_version,
                    repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=part.upstream),
                    name=part.chart,
                    namespace=self.resolved_namespace,
                    values=self.helm_values(),
                    opts=opts,
                )
            else:
                rendered = k8s.yaml.v2.ConfigFile(
                    f"{self._name}-{part.name}", file=part.upstream, opts=opts
                )
            self.parts.append(rendered)
            previous = [rendered]


def _default_namespace(namespace: str) -> Transform:
    """Put namespaced objects that upstream leaves without a namespace into `namespace`."""

    def apply(obj: KubeObject) -> KubeObject:
        metadata = obj.get("metadata") or {}
        if obj["kind"] in CLUSTER_SCOPED_KINDS or metadata.get("namespace"):
            return obj
        return {**obj, "metadata": {**metadata, "namespace": namespace}}

    return apply
