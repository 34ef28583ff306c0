"""The contract every KubeFlow component follows.

A component is a `pulumi.ComponentResource` built from a table of known
versions. Each version is an ordered list of manifest parts; each part comes
from the pinned upstream (rendered once per reference and checked against the
lock, `components.upstream`) or from a mirror folder. Either way the component
gets the same list of objects, filtered (`keeps`), expanded, customised by
transforms and applied in an explicit order (`components.objects.install_tier`):
Namespaces, the built-in objects that run nothing, CRDs, workloads (including the
webhook Deployments the provider waits on until Available), the webhook
configurations, then custom resources, across the parts of a version.

The settings every component takes are `components.args.ComponentArgs`, their checks
`components.validation`, the helpers for the objects installed `components.objects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import pulumi

from components.args import ComponentArgs
from components.awaits import await_recreate_rollout, delete_in_background, skip_service_await
from components.crd_docs import without_descriptions
from components.manifests import (
    KubeObject,
    ManifestError,
    ManifestPart,
    ManifestSource,
    MirrorSource,
)
from components.objects import (
    INSTALL_TIERS,
    WORKLOAD_TIER,
    KubernetesObject,
    controller_owned_fields,
    deleted_with_namespace,
    former_urns,
    holds_data,
    install_tier,
    is_namespace,
    namespace_needed,
    namespace_object,
    other_version_types,
    resource_name,
    served_versions,
    type_token,
)
from components.pod_security import pod_security_level
from components.releases import release_error, release_version
from components.transforms import (
    CLUSTER_SCOPED_KINDS,
    Transform,
    add_labels,
    compose,
    label_pod_security,
    rewrite_images,
    set_namespace,
    set_replicas,
    set_resources,
)
from components.upstream import Loaded, UpstreamSource, load_parts, render_alias, render_urn
from components.validation import (
    ComponentArgsError,
    validate_common,
    workload_errors,
    wrong_types,
)

__all__ = ["KubeflowComponent"]


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
    namespace_resources: dict[str, pulumi.Resource]
    """The Namespaces the component installs, by name: objects of any component in one wait
    for it, and built-in ones go with it when the stack deletes it rather than keeps it
    (`keep_data`; `deleted_with_namespace`)."""

    def __init__(
        self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        source = args.source or UpstreamSource()
        found = self._checked(args, source)
        if len(found) == 1 and isinstance(found[0], ManifestError):
            raise found[0]  # the source's own error, naming the part and the fix
        if found:
            raise ComponentArgsError("\n".join(map(str, found)))
        super().__init__(self.TYPE, name, None, opts)
        self._name = name
        self.settle(args)
        self.objects: list[pulumi.Resource] = []
        self.namespace_resources = {}
        self._install(source)
        self.version = pulumi.Output.from_input(self.resolved_version)
        self.namespace = pulumi.Output.from_input(self.resolved_namespace)
        self.outputs = self.component_outputs()
        self.register_outputs(self.outputs)

    def component_outputs(self) -> dict[str, Any]:
        """Outputs registered for the component; override to add (and set) more."""
        return {"version": self.version, "namespace": self.namespace}

    @classmethod
    def problems(cls, args: ComponentArgs, *, manifests: bool = True) -> list[str]:
        """Every problem with `args`, nothing registered: the common settings, the release,
        `check`, then (`manifests`) the manifests they install: one that cannot be read or
        rendered, and `replicas` and `resources` keys that name no workload the install
        keeps. The parts loaded are held for the install from the same source (`_loaded`): a
        stack's settings check every component's manifests before any registers, and nothing
        loads twice. Without `manifests` (a source already known to lack them) nothing is
        loaded."""
        source = args.source or UpstreamSource()
        return [str(p) for p in cls._checked(args, source, manifests=manifests)]

    @classmethod
    def _checked(
        cls, args: ComponentArgs, source: ManifestSource, *, manifests: bool = True
    ) -> list[str | ManifestError]:
        """What `problems` reports, a part `source` cannot give as its own error (which the
        constructor raises as it is, when nothing else is wrong). The parts are loaded only for
        settings that say which: a known version, no problem of the component's own settings
        (they may choose the parts)."""
        errors: list[str | ManifestError] = [*validate_common(args, cls.VERSIONS, cls.COMPONENT)]
        release = release_error(args.release) if args.release is not None else None
        errors += [f"{cls.COMPONENT}: {release}"] if release else []
        errors += (own := cls.check(args))
        wrong = wrong_types(args)
        known = args.version in (None, *cls.VERSIONS) or isinstance(source, MirrorSource)
        if own or release or not known or "version" in wrong or not manifests:
            return errors
        planned = cls.planned(args)
        try:
            loaded = planned._loaded(source, take=False)
        except ManifestError as error:
            return [*errors, error]
        if (args.replicas or args.resources) and not {"replicas", "resources"} & set(wrong):
            kept = [obj for _, obj in planned._entries(loaded)]
            errors += workload_errors(cls.COMPONENT, args, kept)
        return errors

    @classmethod
    def planned(cls, args: ComponentArgs) -> Self:
        """The component `args` would install, settled (`settle`) but not registered: its
        parts, filters and own objects are the install's, for the checks to read."""
        planned = cls.__new__(cls)
        planned.settle(args)
        return planned

    @classmethod
    def planned_parts(
        cls, args: ComponentArgs, source: ManifestSource
    ) -> tuple[str, str, tuple[ManifestPart, ...]]:
        """The upstream project (mirror folder), version and parts `args` install from
        `source`, without registering anything."""
        planned = cls.planned(args)
        return cls.mirror_folder(args), planned.resolved_version, planned.manifest_parts(source)

    def settle(self, args: ComponentArgs) -> None:
        """Take `args` and what they resolve to (version, namespace), for the install and for
        a plan (`planned`) alike; override to start state the filters keep (calling this)."""
        self.args = args
        self.resolved_version = self.version_for(args)
        self.resolved_namespace = args.namespace or self.upstream_namespace(args) or "default"

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """Component-specific argument problems; override to add some."""
        return []

    @classmethod
    def default_version(cls, args: ComponentArgs) -> str:
        """The version installed when neither `version` nor `release` sets one."""
        return cls.DEFAULT_VERSION

    @classmethod
    def version_for(cls, args: ComponentArgs) -> str:
        """The version these args install: `version`, else their release's version of this
        upstream project, else the default."""
        if args.version is not None:
            return args.version
        if args.release is not None and release_error(args.release) is None:
            preset = release_version(args.release, cls.mirror_folder(args))
            if preset is not None:
                return preset
        return cls.default_version(args)

    @classmethod
    def upstream_namespace(cls, args: ComponentArgs) -> str | None:
        """The namespace upstream's manifests use for these args (UPSTREAM_NAMESPACE)."""
        return cls.UPSTREAM_NAMESPACE

    @classmethod
    def other_namespaces(cls, args: ComponentArgs) -> tuple[str, ...]:
        """Namespaces besides its own that the component creates unless a component installed
        before it runs there (`catalog.share_namespaces`); override (the Spark Operator's job
        namespaces)."""
        return ()

    @classmethod
    def mirror_folder(cls, args: ComponentArgs) -> str:
        """The mirror folder of these args' manifests (COMPONENT); override when a setting
        picks another upstream project (e.g. Kubeflow Trainer v2 for the Training Operator)."""
        return cls.COMPONENT

    def transforms(self) -> list[Transform]:
        """The transforms for these args, in the order they apply."""
        args = self.args
        out: list[Transform] = [] if args.crd_descriptions else [without_descriptions]
        upstream_namespace = self.upstream_namespace(args)
        if upstream_namespace and args.namespace:
            out.append(set_namespace(upstream_namespace, args.namespace))
        elif args.namespace:
            out.append(_default_namespace(args.namespace))
        if args.image_registry:
            out.append(rewrite_images(args.image_registry))
        out.append(label_pod_security(pod_security_level(self.mirror_folder(args))))
        out += [add_labels(args.labels), set_replicas(args.replicas)]
        out += [set_resources(args.resources), *self.extra_transforms(), *args.transforms]
        # last: they see the Service type, the replicas and the annotations the others leave
        return [*out, skip_service_await, await_recreate_rollout, delete_in_background]

    def extra_transforms(self) -> list[Transform]:
        """Transforms a component adds for its own settings (before the user's)."""
        return []

    def expand(self, obj: KubeObject) -> list[KubeObject]:
        """The objects one upstream object becomes (itself; override to repeat it, e.g. once
        per job namespace)."""
        return [obj]

    def keeps(self, obj: KubeObject) -> bool:
        """Whether an upstream object is installed: not a Namespace when `create_namespace` is
        false, the component includes it, and no `exclude` predicate of the args matches it."""
        if obj["kind"] == "Namespace" and self.args.create_namespace is False:
            return False
        return self.include(obj) and not any(skip(obj) for skip in self.args.exclude)

    def include(self, obj: KubeObject) -> bool:
        """Whether an upstream object is installed, from a mirror or a render alike; override
        to leave some out (e.g. Istio objects when Istio is not installed)."""
        return True

    def own_objects(self) -> list[KubeObject]:
        """Objects the component adds to upstream's, transformed like upstream's and applied
        before every part: the namespace, when upstream's objects carry none
        (`makes_namespace`) and `create_namespace` is not false."""
        if self.makes_namespace() and self.args.create_namespace is not False:
            return [namespace_object(self.resolved_namespace)]
        return []

    def makes_namespace(self) -> bool:
        """Whether upstream leaves the namespace to the installer, so the component makes it
        (override: True); else upstream's own Namespace object is installed or left out."""
        return False

    def final_objects(self) -> list[KubeObject]:
        """Objects the component adds after every part (e.g. a ClusterIssuer, which the
        webhook of the parts admits); transformed like upstream's."""
        return []

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
        """Every part's objects, loaded first (by the check: `_loaded`), then filtered,
        expanded, transformed and registered in order, whatever the source."""
        transform = compose(self.transforms())
        loaded = self._loaded(source, take=True)
        for note in filter(None, (note for _, _, note in loaded)):
            pulumi.log.warn(note, self)
        self._served = served_versions(o for _, objects, _ in loaded for o in objects)
        entries = [(part, o, transform(o)) for part, o in self._entries(loaded)]
        self._register(entries, source)

    def _entries(self, loaded: Loaded) -> list[tuple[ManifestPart, KubeObject]]:
        """(part, object) of every object the install registers, before the transforms: the
        component's own objects, each part's objects it keeps (`keeps`), expanded (`expand`),
        then its final ones. The checks of `replicas` and `resources` read these, so a name
        is checked against exactly what will be installed."""
        own, final = ManifestPart("own", "", "file", ""), ManifestPart("final", "", "file", "")
        entries = [(own, o) for o in self.own_objects()]
        for part, objects, _ in loaded:
            entries += [(part, each) for o in objects if self.keeps(o) for each in self.expand(o)]
        return entries + [(final, o) for o in self.final_objects()]

    def _loaded(self, source: ManifestSource, *, take: bool) -> Loaded:
        """The objects of each part these args install (`load_parts`: read once, held from
        the check to the install)."""
        folder, parts = self.mirror_folder(self.args), self.manifest_parts(source)
        return load_parts(source, folder, self.resolved_version, parts, take=take)

    def _register(
        self, entries: list[tuple[ManifestPart, KubeObject, KubeObject]], source: ManifestSource
    ) -> None:
        """Register (part, upstream object, transformed object) entries tier by tier
        (`install_tier`), across the component's parts: each object waits for every object
        of the tiers before its own, so the order never depends on which part or file an
        object came from. It names only the objects of the last tier before its own that has
        any, which wait for the ones before them: the state records each dependency once
        (every object naming every earlier one was 11% of the full platform's state). From an
        upstream source, each object is also aliased to its name under the provider-side
        render of its part (stacks made before: `render_alias`)."""
        upstream_parts = {part.name: part for part, _, _ in entries if part.upstream}
        renders = (
            {name: render_urn(self.urn, part, self._name) for name, part in upstream_parts.items()}
            if isinstance(source, UpstreamSource)
            else {}
        )
        waits_on: list[pulumi.Resource] = []
        for tier in range(INSTALL_TIERS):
            if tier == WORKLOAD_TIER:
                waits_on = [*waits_on, *self.args.requires]
            registered: list[pulumi.Resource] = []
            for part, raw, obj in entries:
                if install_tier(obj) != tier:
                    continue
                name = resource_name(self._name, obj)
                opts = self._object_options(part, obj, name, waits_on)
                if part.name in renders:
                    render = renders[part.name]
                    namespace = self.resolved_namespace
                    alias = render_alias(part, raw, self._name, namespace, render, type_token(obj))
                    opts.aliases = [*(opts.aliases or []), alias]
                resource = KubernetesObject(name, obj, opts)
                if is_namespace(obj):
                    self.namespace_resources[obj["metadata"]["name"]] = resource
                registered.append(resource)
            self.objects += registered
            waits_on = registered or waits_on

    def _object_options(
        self, part: ManifestPart, obj: KubeObject, name: str, waits_on: list[pulumi.Resource]
    ) -> pulumi.ResourceOptions:
        """Parent, order, lifetime (`keep_data`), the fields left to controllers, and the
        names the object had when resource names carried the part (stacks made before): the
        part it comes from first, then every other part name of the component's versions;
        a custom resource's types at the other versions its CRD serves; and a Namespace's
        names under the component's `siblings`."""
        parts = [part.name, *(p for p in self._part_names() if p != part.name)]
        old_names = [resource_name(f"{self._name}-{p}", obj) for p in parts]
        old_types = other_version_types(obj, self._served)
        keeps = self.args.keep_data is not False
        if is_namespace(obj) and self.args.keep_namespace is not None:
            keeps = self.args.keep_namespace  # another component's data may be in it
        retained = keeps and holds_data(obj)
        shared = self.args.shared_namespaces.get(namespace_needed(obj) or "")
        namespaces = {**self.args.shared_namespaces, **self.namespace_resources}
        namespaces = namespaces if self.args.delete_with_namespace else {}
        return pulumi.ResourceOptions(
            parent=self,
            depends_on=[*waits_on, shared] if shared else waits_on,
            retain_on_delete=retained,
            deleted_with=None if retained else deleted_with_namespace(obj, namespaces),
            ignore_changes=controller_owned_fields(obj) or None,
            aliases=former_urns(self.urn, obj, name, old_names, old_types, self.args.siblings),
        )

    def _part_names(self) -> list[str]:
        """Every part name of the version table, and the component's own and final parts."""
        names = [p.name for parts in self.VERSIONS.values() for p in parts]
        return list(dict.fromkeys(["own", *names, "final"]))


def _default_namespace(namespace: str) -> Transform:
    """Put namespaced objects that upstream leaves without a namespace into `namespace`."""

    def apply(obj: KubeObject) -> KubeObject:
        metadata = obj.get("metadata") or {}
        if obj["kind"] in CLUSTER_SCOPED_KINDS or metadata.get("namespace"):
            return obj
        return {**obj, "metadata": {**metadata, "namespace": namespace}}

    return apply
