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
    CatalogEntry,
    install_order,
    missing_requirements,
    renamed_settings,
    share_namespaces,
    under_new_keys,
)
from components.manifests import ManifestError, MirrorSource
from components.releases import release_error
from components.validation import camel_case, label_errors, registry_error, type_problem
from infra.local_cluster_config import local_cluster_setting
from infra.pipeline_settings import ExamplePipelines, artifact_store, example_pipelines, with_s3
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
    warnings: tuple[str, ...] = ()
    """For the program to log: each renamed key the stack still uses, with its new name."""


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
    mirror = _mirror(raw, project_dir, errors)
    raw = _without_bad_globals(raw, errors)
    component_args = {
        component_id: _component_args(component_id, raw, mirror, errors) for component_id in enabled
    }
    component_args = _with_keep_data(component_args, raw, cluster.mode, errors)
    if cluster.mode == "render":  # a rendered object's file goes only when it is deleted
        component_args = {
            cid: dataclasses.replace(args, delete_with_namespace=False)
            for cid, args in component_args.items()
        }
    component_args, namespace_problems = share_namespaces(component_args)
    errors += namespace_problems
    store = artifact_store(raw, enabled, errors)
    examples = example_pipelines(raw, enabled, secret_keys, errors)
    if errors:
        raise ConfigError(_report(errors, warnings))
    if store is not None:
        component_args["pipelines"] = with_s3(component_args["pipelines"], store)
    return Settings(
        stack=stack,
        cluster=cluster,
        components=tuple(install_order(enabled)),
        component_args=component_args,
        example_pipelines=examples,
        artifact_store=store,
        repair_drift=raw.get("repairDrift", True),
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
    names: dict[type, str] = {
        str: "a string",
        dict: "an object",
        list: "a list",
        bool: "true or false",
    }
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
    enabled = raw.get("components", ["pipelines"])
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


def _mirror(raw: Mapping[str, Any], project_dir: Path, errors: list[str]) -> MirrorSource | None:
    if not raw.get("manifestMirror"):
        return None
    root = _path(raw["manifestMirror"], project_dir)
    if not root.is_dir():
        errors.append(
            f"kubeflow:manifestMirror = {raw['manifestMirror']!r}: no such folder ({root}); fix: "
            "point it at a folder laid out <component>/<version>/*.yaml, or unset it to render "
            "the pinned upstream"
        )
    return MirrorSource(root)


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


KEEPS_DATA_BY_DEFAULT: dict[str, bool] = {
    "existing": True,
    "kind": True,
    "local": False,
    "render": False,
}
"""Whether a cluster mode keeps data that leaves the stack, unless kubeflow:keepData says."""


def _with_keep_data(
    component_args: dict[str, ComponentArgs],
    raw: Mapping[str, Any],
    mode: str,
    errors: list[str],
) -> dict[str, ComponentArgs]:
    """Each component's keep_data: its own setting, else kubeflow:keepData, else the mode's."""
    value = raw.get("keepData")
    flags = {"true": True, "false": False}
    if value is not None and str(value).lower() not in flags:
        errors.append(
            f'kubeflow:keepData = {value!r} is not true or false; fix: set it to "true" or '
            '"false", or leave it empty to keep data on existing and kind clusters only'
        )
    keep = flags.get(str(value).lower(), KEEPS_DATA_BY_DEFAULT.get(mode, True))
    return {
        component_id: args
        if args.keep_data is not None
        else dataclasses.replace(args, keep_data=keep)
        for component_id, args in component_args.items()
    }


def _component_args(
    component_id: str, raw: Mapping[str, Any], mirror: MirrorSource | None, errors: list[str]
) -> ComponentArgs:
    entry = CATALOG[component_id]
    settings = dict(raw.get(component_id) or {})
    settings.setdefault("imageRegistry", raw.get("imageRegistry"))
    settings.setdefault("crdDescriptions", raw.get("crdDescriptions"))
    if release_error(raw.get("release")) is None:
        settings.setdefault("release", raw.get("release"))
    if isinstance(settings.get("labels") or {}, Mapping):  # else reported as a type problem
        settings["labels"] = {**(raw.get("labels") or {}), **(settings.get("labels") or {})}
    fields = {
        f.name: f
        for f in dataclasses.fields(entry.args_cls)
        if f.name
        not in (
            "transforms",
            "exclude",
            "artifact_store",
            "delete_with_namespace",
            "shared_namespaces",
            "requires",
        )
    }
    kwargs: dict[str, Any] = {"source": mirror}
    for key, value in settings.items():
        name = _snake(key)
        if name not in fields or name == "source":
            allowed = ", ".join(sorted(camel_case(f) for f in fields if f != "source"))
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
    problems = entry.cls.problems(args)
    errors += [f"kubeflow:{component_id}: {p}" for p in problems]
    if mirror is not None and mirror.root.is_dir():
        errors += _mirror_errors(entry.cls.mirror_folder(args), args, entry, mirror)
    return args


def _mirror_errors(
    folder: str, args: ComponentArgs, entry: CatalogEntry, mirror: MirrorSource
) -> list[str]:
    version = entry.cls.version_for(args)
    if not (mirror.root / folder / version).is_dir():
        if args.version is None and args.release is not None:
            return [
                f"kubeflow:release {args.release} installs {folder} {version}, but "
                f"kubeflow:manifestMirror {mirror.root} has no {folder}/{version}; fix: render "
                f"that version into the mirror, or set kubeflow:{entry.component_id}.version to "
                "a version the mirror holds, or choose another kubeflow:release"
            ]
        known = ", ".join(entry.cls.VERSIONS)
        unknown = (
            ""
            if version in entry.cls.VERSIONS
            else f" (and {version!r} is not a known version: {known})"
        )
        return [
            f"kubeflow:manifestMirror {mirror.root} has no {folder}/{version}{unknown}; fix: "
            "render that version into the mirror, or set "
            f"kubeflow:{entry.component_id}.version to one it holds"
        ]
    errors = []
    for part in entry.cls.VERSIONS.get(version, ()):
        try:
            mirror.part_path(folder, version, part)
        except ManifestError as error:
            errors.append(f"kubeflow:manifestMirror: {error}")
    return errors


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
