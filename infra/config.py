"""Stack config -> typed, validated settings.

Every problem is collected and reported at once, each naming the key, the
value and the fix, before the program registers any resource.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from components.args import ComponentArgs
from components.catalog import (
    CATALOG,
    idle_settings,
    install_order,
    missing_requirements,
    renamed_settings,
    share_namespaces,
    under_new_keys,
)
from components.manifests import ManifestSource, MirrorSource
from components.releases import release_error
from components.upstream import UpstreamSource
from components.validation import camel_case, label_errors, registry_error, type_problem
from infra.local_cluster_config import local_cluster_setting
from infra.mirror_settings import mirror_errors, mirror_source
from infra.pipeline_settings import ExamplePipelines, artifact_store, example_pipelines
from pipelines.artifact_store import S3ArtifactSettings

CLUSTER_MODES = ("local", "kind", "existing", "render")
ClusterMode = Literal["local", "kind", "existing", "render"]

# Declared settings and their types; Pulumi.yaml declares the same keys (and the renamed ones).
STRING_KEYS = {
    "cluster",
    "kubeconfig",
    "context",
    "kindClusterName",
    "renderDir",
    "localClusterDir",
    "manifestMirror",
    "imageRegistry",
    "release",
    "keepData",
}
OBJECT_KEYS = {"labels", "examplePipelines", "artifactStore", "localCluster"} | set(CATALOG)
ARRAY_KEYS = {"components"}
BOOLEAN_KEYS = {"repairDrift", "crdDescriptions"}
KNOWN_KEYS = STRING_KEYS | OBJECT_KEYS | ARRAY_KEYS | BOOLEAN_KEYS
MODE_SETTINGS = {"kubeconfig": "existing", "context": "existing", "kindClusterName": "kind"}
MODE_SETTINGS |= {"renderDir": "render", "localClusterDir": "local", "localCluster": "local"}
"""Each setting that only one cluster mode reads, and that mode: with another, it does nothing."""
_CLUSTER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class ConfigError(ValueError):
    """Stack settings that cannot be deployed; the message lists every problem."""


@dataclass(frozen=True)
class ClusterSettings:
    """Which Kubernetes cluster the stack installs into."""

    mode: ClusterMode
    kubeconfig: Path | None = None
    context: str | None = None
    kind_name: str = "kfp-demo"
    render_dir: Path | None = None
    local_dir: Path | None = None
    local_delay_factor: float = 1.0
    """kubeflow:localCluster.delayFactor: the simulated kubelet's delays x this."""


@dataclass(frozen=True)
class Settings:
    """Everything the program needs, validated."""

    stack: str
    cluster: ClusterSettings
    components: tuple[str, ...]
    """Enabled component ids, in install order."""
    component_args: Mapping[str, ComponentArgs]
    example_pipelines: ExamplePipelines | None = None
    """Where to deploy the example pipelines, if anywhere."""
    artifact_store: S3ArtifactSettings | None = None
    """The S3 artifact store of KFP, if not the bundled SeaweedFS."""
    repair_drift: bool = True
    """Whether `up` takes back fields that others changed (server-side apply force)."""
    keep_data: bool = False
    """kubeflow:keepData, or the cluster mode's default (`KEEPS_DATA_BY_DEFAULT`)."""
    warnings: tuple[str, ...] = ()
    """For the program to log: each renamed key the stack still uses, with its new name."""

    @property
    def cluster_keeps_data(self) -> bool:
        """Whether the cluster the stack makes holds data it keeps, and so outlives a
        `destroy`: kubeflow:keepData says so (data of components removed before may be
        there), or an enabled component keeps its own."""
        kept = [args.keep_data is not False for args in self.component_args.values()]
        return self.keep_data or any(kept)


def decode(raw: Mapping[str, str]) -> dict[str, Any]:
    """Pulumi passes config values as strings; decode objects and arrays from JSON."""
    out: dict[str, Any] = {}
    decoded = OBJECT_KEYS | ARRAY_KEYS | BOOLEAN_KEYS | renamed_settings().keys()
    for key, value in raw.items():
        if key in decoded and isinstance(value, str):
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                out[key] = value  # reported as a type error by load_settings
        else:
            out[key] = value
    return out


def load_settings(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project_dir: Path,
    secret_keys: Collection[str] = (),
) -> Settings:
    """Validate decoded `kubeflow:*` config (keys without the prefix) into `Settings`.

    `secret_keys` are the keys Pulumi holds encrypted; a credential elsewhere is an error."""
    # Pulumi.yaml gives every optional setting an empty default: empty means unset.
    raw = {key: value for key, value in raw.items() if value not in ("", {}, None)}
    raw, warnings, errors = under_new_keys(raw, stack)
    errors += [
        f"kubeflow:{key} is not a setting of this project; fix: remove it or use one of "
        f"{', '.join(sorted(KNOWN_KEYS))}"
        for key in raw
        if key not in KNOWN_KEYS
    ]
    errors += _type_errors(raw)
    if errors:
        raise ConfigError(_report(errors, warnings))
    if "release" in raw and (release_problem := release_error(raw["release"])):
        errors.append(f"kubeflow:release: {release_problem}")
    cluster = _cluster(raw, stack, project_dir, errors)
    enabled = _components(raw, errors)
    warnings += idle_settings(raw, enabled)
    mirror = (
        mirror_source(raw["manifestMirror"], _path(raw["manifestMirror"], project_dir), errors)
        if raw.get("manifestMirror")
        else None
    )
    raw = _without_bad_globals(raw, errors)
    store = artifact_store(raw, enabled, errors)
    # One source for every component, so what the checks load is what the install uses.
    source = mirror if mirror is not None else UpstreamSource()
    component_args = {cid: _component_args(cid, raw, source, store, errors) for cid in enabled}
    keep_data = _stack_keep_data(raw, cluster.mode, errors)
    component_args = {
        cid: args if args.keep_data is not None else dataclasses.replace(args, keep_data=keep_data)
        for cid, args in component_args.items()
    }
    if cluster.mode == "render":  # a rendered object's file goes only when it is deleted
        component_args = {
            cid: dataclasses.replace(args, delete_with_namespace=False)
            for cid, args in component_args.items()
        }
    component_args, namespace_problems = share_namespaces(component_args)
    errors += namespace_problems
    examples = example_pipelines(raw, enabled, secret_keys, errors)
    if errors:
        raise ConfigError(_report(errors, warnings))
    return Settings(
        stack=stack,
        cluster=cluster,
        components=tuple(install_order(enabled)),
        component_args=component_args,
        example_pipelines=examples,
        artifact_store=store,
        repair_drift=raw.get("repairDrift", True),
        keep_data=keep_data,
        warnings=tuple(warnings),
    )


def _report(errors: list[str], warnings: list[str]) -> str:
    """The problems, then the renamed keys they may name by their new names."""
    report = "invalid stack configuration:\n" + "\n".join(f"  - {e}" for e in errors)
    return report + "".join(f"\nwarning: {w}" for w in warnings)


def _type_errors(raw: Mapping[str, Any]) -> list[str]:
    expected: dict[str, type] = {
        **dict.fromkeys(STRING_KEYS, str),
        **dict.fromkeys(OBJECT_KEYS, dict),
        **dict.fromkeys(ARRAY_KEYS, list),
        **dict.fromkeys(BOOLEAN_KEYS, bool),
    }
    names = {str: "a string", dict: "an object", list: "a list", bool: "true or false"}
    return [
        f"kubeflow:{key} = {value!r} must be {names[expected[key]]}; fix: "
        f"see the description of kubeflow:{key} in Pulumi.yaml"
        for key, value in raw.items()
        if key in expected and not isinstance(value, expected[key])
    ]


def _path(value: str, project_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (project_dir / path).resolve()


def _cluster(
    raw: Mapping[str, Any], stack: str, project_dir: Path, errors: list[str]
) -> ClusterSettings:
    mode = raw.get("cluster", "existing")
    if mode not in CLUSTER_MODES:
        errors.append(
            f"kubeflow:cluster = {mode!r} is not a cluster mode; fix: use one of "
            f"{', '.join(CLUSTER_MODES)}"
        )
        return ClusterSettings(mode="existing")
    errors += [
        f"kubeflow:{key} is a setting of kubeflow:cluster {used}, and does nothing with "
        f"kubeflow:cluster {mode}; fix: remove kubeflow:{key}, or set kubeflow:cluster to {used}"
        for key, used in MODE_SETTINGS.items()
        if key in raw and used != mode
    ]
    kubeconfig = _path(raw["kubeconfig"], project_dir) if raw.get("kubeconfig") else None
    if mode == "existing" and kubeconfig is not None and not kubeconfig.is_file():
        errors.append(
            f"kubeflow:kubeconfig = {raw['kubeconfig']!r}: no such file ({kubeconfig}); fix: "
            "point it at your kubeconfig, or unset it to use $KUBECONFIG / ~/.kube/config"
        )
    kind_name = raw.get("kindClusterName", "kfp-demo")
    if not _CLUSTER_NAME.match(kind_name):
        errors.append(
            f"kubeflow:kindClusterName = {kind_name!r} is not a valid kind cluster name; "
            "fix: lower-case letters, digits and '-'"
        )
    delay_factor, local_problems = local_cluster_setting(raw.get("localCluster") or {})
    errors += local_problems
    return ClusterSettings(
        mode=cast(ClusterMode, mode),
        kubeconfig=kubeconfig,
        context=raw.get("context"),
        kind_name=kind_name,
        render_dir=_path(raw.get("renderDir", f"build/manifests/{stack}"), project_dir),
        local_dir=_path(raw.get("localClusterDir", f"build/local-cluster/{stack}"), project_dir),
        local_delay_factor=delay_factor,
    )


def _components(raw: Mapping[str, Any], errors: list[str]) -> list[str]:
    listed = raw.get("components", ["pipelines"])
    errors += [
        f"kubeflow:components lists {c!r}, which is not a component id; fix: list ids only, "
        f"e.g. [pipelines, kserve]"
        for c in listed
        if not isinstance(c, str)
    ]
    enabled = [c for c in listed if isinstance(c, str)]
    unknown = [c for c in enabled if c not in CATALOG]
    for component_id in unknown:
        errors.append(
            f"kubeflow:components names {component_id!r}, which is not a component; fix: use "
            f"any of {', '.join(CATALOG)}"
        )
    if len(set(enabled)) != len(enabled):
        errors.append(f"kubeflow:components lists a component twice: {enabled}; fix: list once")
    known = [c for c in dict.fromkeys(enabled) if c in CATALOG]
    errors += [
        f"kubeflow:components enables {component_id!r}, which needs {dependency!r}; "
        f"fix: add {dependency!r} to kubeflow:components"
        for component_id, dependency in missing_requirements(known)
    ]
    return known


def _without_bad_globals(raw: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    """`raw` without the global settings every component inherits that are invalid: each is
    reported once, under its own key, not under every component that would inherit it."""
    problems = {
        "imageRegistry": [f"kubeflow:imageRegistry: {p}" for p in [_registry(raw)] if p],
        "labels": label_errors("kubeflow:labels", raw.get("labels") or {}),
    }
    for found in problems.values():
        errors += found
    return {key: value for key, value in raw.items() if not problems.get(key)}


def _registry(raw: Mapping[str, Any]) -> str | None:
    registry = raw.get("imageRegistry")
    return registry_error(registry) if registry is not None else None


KEEPS_DATA_BY_DEFAULT = {"existing": True, "kind": True, "local": False, "render": False}
"""Whether a cluster mode keeps data that leaves the stack, unless kubeflow:keepData says."""


def _stack_keep_data(raw: Mapping[str, Any], mode: str, errors: list[str]) -> bool:
    """kubeflow:keepData, else the mode's default: each component's keep_data unless it sets
    its own."""
    value = raw.get("keepData")
    flags = {"true": True, "false": False}
    if value is not None and str(value).lower() not in flags:
        errors.append(
            f'kubeflow:keepData = {value!r} is not true or false; fix: set it to "true" or '
            '"false", or leave it empty to keep data on existing and kind clusters only'
        )
    return flags.get(str(value).lower(), KEEPS_DATA_BY_DEFAULT.get(mode, True))


# The fields of a component's args that Python sets, not stack config.
_NOT_CONFIG = {"source", "transforms", "exclude", "artifact_store", "requires"}
_NOT_CONFIG |= {"shared_namespaces", "delete_with_namespace", "siblings"}


def _component_args(
    component_id: str,
    raw: Mapping[str, Any],
    source: ManifestSource,
    store: S3ArtifactSettings | None,
    errors: list[str],
) -> ComponentArgs:
    """A component's args from its settings and the global ones, every problem reported. Its
    manifests are checked only from a source that holds its version (a manifest mirror that
    is no folder is reported once, as such)."""
    entry = CATALOG[component_id]
    settings = dict(raw.get(component_id) or {})
    settings.setdefault("imageRegistry", raw.get("imageRegistry"))
    settings.setdefault("crdDescriptions", raw.get("crdDescriptions"))
    if release_error(raw.get("release")) is None:
        settings.setdefault("release", raw.get("release"))
    if isinstance(settings.get("labels") or {}, Mapping):  # else reported as a type problem
        settings["labels"] = {**(raw.get("labels") or {}), **(settings.get("labels") or {})}
    fields = {f.name: f for f in dataclasses.fields(entry.args_cls) if f.name not in _NOT_CONFIG}
    kwargs: dict[str, Any] = {"source": source}
    if store is not None and component_id == "pipelines":
        kwargs["artifact_store"] = store  # the install leaves SeaweedFS out: checked so
    for key, value in settings.items():
        name = _snake(key)
        if name in fields and key != camel_case(name):  # else set twice: one spelling would win
            errors.append(
                f"kubeflow:{component_id}.{key} is not how stack config spells the setting; "
                f"fix: rename it to {camel_case(name)}"
            )
        elif name not in fields:
            allowed = ", ".join(sorted(camel_case(f) for f in fields))
            errors.append(
                f"kubeflow:{component_id}.{key} is not a setting of {component_id}; fix: use "
                f"one of {allowed}"
            )
        elif (problem := type_problem(name, value)) is not None:
            errors.append(f"kubeflow:{component_id}.{problem}")  # left unset, checked on
        elif value is not None:
            kwargs[name] = value
    try:
        args = entry.args_cls(**kwargs)
    except (TypeError, ValueError) as error:
        errors.append(f"kubeflow:{component_id}: {error}")
        return entry.args_cls()
    usable = not isinstance(source, MirrorSource) or source.root.is_dir()  # else reported
    missing = mirror_errors(args, entry, source) if usable else []
    problems = entry.cls.problems(args, manifests=usable and not missing)
    errors += [f"kubeflow:{component_id}: {p}" for p in problems] + missing
    return args


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
