"""The pipeline settings of a stack: KFP's S3 artifact store and the example pipelines to
deploy. Problems are appended to the caller's list, like every other setting's."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from components.validation import setting_type_problem
from pipelines.artifact_store import S3ArtifactSettings, validate_settings
from pipelines.catalog import EXAMPLES
from pipelines.urls import http_url_problem


@dataclass(frozen=True)
class ExamplePipelines:
    """The example pipelines to deploy and the KFP API to deploy them to."""

    api_url: str
    ui_url: str
    pipelines: tuple[str, ...]
    token: str | None = None
    """A bearer token; only ever read from a secret config value."""


ARTIFACT_STORE_KEYS = {
    "bucket": "bucket",
    "region": "region",
    "prefix": "prefix",
    "endpoint": "endpoint_url",
    "credentialsSecret": "credentials_secret",
    "accessKeyKey": "access_key_key",
    "secretKeyKey": "secret_key_key",
    "pathStyle": "path_style",
}


def artifact_store(
    raw: Mapping[str, Any], enabled: list[str], errors: list[str]
) -> S3ArtifactSettings | None:
    """kubeflow:artifactStore, validated (None when unset or invalid)."""
    settings = raw.get("artifactStore")
    if not settings:
        return None
    if "pipelines" not in enabled:
        errors.append(
            "kubeflow:artifactStore is set but pipelines is not enabled; fix: add pipelines "
            "to kubeflow:components or remove kubeflow:artifactStore"
        )
    settings = {key: value for key, value in settings.items() if value is not None}
    unknown = sorted(set(settings) - set(ARTIFACT_STORE_KEYS))
    if unknown or not {"bucket", "region"} <= set(settings):
        errors.append(
            f"kubeflow:artifactStore takes {', '.join(ARTIFACT_STORE_KEYS)} (bucket and region "
            f"required); got {', '.join(sorted(settings))}; fix: rename or add the keys"
        )
        return None
    types = {key: bool if key == "pathStyle" else str for key in ARTIFACT_STORE_KEYS}
    if type_errors := _type_errors("artifactStore", settings, types):
        errors += type_errors
        return None
    store = S3ArtifactSettings(**{ARTIFACT_STORE_KEYS[k]: v for k, v in settings.items()})
    try:
        validate_settings(store)
    except ValueError as error:
        errors.append(f"kubeflow:{error}")
        return None
    return store


def example_pipelines(
    raw: Mapping[str, Any], enabled: list[str], secret_keys: Collection[str], errors: list[str]
) -> ExamplePipelines | None:
    """kubeflow:examplePipelines, validated (None when unset or invalid); a token only from
    a secret config value."""
    settings = raw.get("examplePipelines")
    if not settings:
        return None
    allowed = {"apiUrl", "uiUrl", "pipelines", "token"}
    if not set(settings) <= allowed or "apiUrl" not in settings:
        errors.append(
            f"kubeflow:examplePipelines takes {', '.join(sorted(allowed))} (apiUrl required); "
            f"got {', '.join(sorted(settings))}; fix: rename or add the keys"
        )
        return None
    if "pipelines" not in enabled:
        errors.append(
            "kubeflow:examplePipelines deploys to KFP but pipelines is not enabled; fix: add "
            "pipelines to kubeflow:components"
        )
    if "token" in settings and "kubeflow:examplePipelines" not in secret_keys:
        errors.append(
            "kubeflow:examplePipelines.token is stored in plain text; fix: pulumi config set "
            "--secret --path 'kubeflow:examplePipelines.token' <token>"
        )
    errors += [
        f"kubeflow:{problem}; fix: e.g. http://localhost:8888 (port-forward of ml-pipeline) or "
        "your KFP ingress, with a bearer token in kubeflow:examplePipelines.token (secret)"
        for key in ("apiUrl", "uiUrl")
        if key in settings
        and (problem := http_url_problem(f"examplePipelines.{key}", settings[key]))
    ]
    if type_errors := _type_errors(
        "examplePipelines", settings, {"token": str, "pipelines": list}, secret={"token"}
    ):
        errors += type_errors
        return None
    pipelines = settings.get("pipelines", list(EXAMPLES))
    if unknown := [p for p in pipelines if p not in EXAMPLES]:
        errors.append(
            f"kubeflow:examplePipelines.pipelines names {unknown}; fix: use any of "
            f"{', '.join(EXAMPLES)}"
        )
    if not pipelines:
        errors.append(
            "kubeflow:examplePipelines.pipelines is empty, so nothing would be deployed; fix: "
            f"list any of {', '.join(EXAMPLES)}, or remove kubeflow:examplePipelines"
        )
    return ExamplePipelines(
        api_url=settings["apiUrl"],
        ui_url=settings.get("uiUrl", settings["apiUrl"]),
        pipelines=tuple(pipelines),
        token=settings.get("token"),
    )


_SETTING_TYPES: dict[type, tuple[tuple[type, ...], str]] = {
    str: ((str,), "a string"),
    bool: ((bool,), "true or false"),
    list: ((list,), "a list of strings"),
}


def _type_errors(
    owner: str,
    settings: Mapping[str, Any],
    types: Mapping[str, type],
    secret: Collection[str] = (),
) -> list[str]:
    """The settings of kubeflow:`owner` whose value is not of its type, which the checks after
    this would crash on or misread (`setting_type_problem`); a `secret` value never shown."""
    return [
        f"kubeflow:{owner}.{problem}"
        for key, expected in types.items()
        if (
            problem := setting_type_problem(
                key, settings.get(key), *_SETTING_TYPES[expected], secret=key in secret
            )
        )
    ]
