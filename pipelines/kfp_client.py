"""Pipelines and versions on one KFP API server, through the kfp SDK's own API client.

``kfp_server_api`` is the generated v2beta1 client that ships with (and under) ``kfp.Client``.
It is used directly, not through ``kfp.Client``: that wrapper has no call to create an empty
pipeline (its ``upload_pipeline`` also makes a first version, named like the pipeline, while
versions here are named by the spec digest), and it prints links on every upload. This module
only adds what deployment needs on top: pagination, "not found" as ``None``, and errors that
say what failed and what to do.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import kfp_server_api
from kfp_server_api.exceptions import ApiException
from urllib3.exceptions import HTTPError


class KfpApiError(RuntimeError):
    """The KFP API was unreachable or refused a request; the message says which and why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class KfpApi:
    """Pipelines and pipeline versions on one KFP API server."""

    def __init__(self, api_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        config = kfp_server_api.Configuration(host=self.api_url)
        config.retries = 1
        if token:
            config.api_key["authorization"] = token
            config.api_key_prefix["authorization"] = "Bearer"
        client = kfp_server_api.ApiClient(config)
        self._pipelines = kfp_server_api.PipelineServiceApi(client)
        self._upload = kfp_server_api.PipelineUploadServiceApi(client)

    def create_pipeline(self, name: str, description: str) -> str:
        """Create an empty pipeline and return its ID."""
        body = kfp_server_api.V2beta1Pipeline(name=name, display_name=name, description=description)
        try:
            pipeline = self._call(
                f"create pipeline {name!r}", self._pipelines.pipeline_service_create_pipeline, body
            )
        except KfpApiError as err:
            if err.status != 409:
                raise
            raise KfpApiError(
                f"{err}. A pipeline named {name!r} exists that this stack did not create. Fix: "
                "delete it in KFP (UI or API) if it is a leftover, or deploy under another name.",
                status=err.status,
            ) from err
        return str(pipeline.pipeline_id)

    def upload_version(
        self, pipeline_id: str, version_name: str, package: str, description: str
    ) -> str:
        """Upload a compiled pipeline (IR YAML) as a new version; return the version ID."""
        action = f"upload version {version_name!r} of pipeline {pipeline_id}"
        with tempfile.TemporaryDirectory(prefix="kfp-upload-") as tmp:
            path = Path(tmp) / f"{version_name}.yaml"
            path.write_text(package, encoding="utf-8")
            version = self._call(
                action,
                self._upload.upload_pipeline_version,
                str(path),
                name=version_name,
                display_name=version_name,
                pipelineid=pipeline_id,
                description=description,
            )
        return str(version.pipeline_version_id)

    def get_pipeline(self, pipeline_id: str) -> Any | None:
        """The pipeline, or None when the server has no such pipeline."""
        return self._call(
            f"get pipeline {pipeline_id}",
            self._pipelines.pipeline_service_get_pipeline,
            pipeline_id,
            missing_ok=True,
        )

    def get_version(self, pipeline_id: str, version_id: str) -> Any | None:
        """The pipeline version, or None when it does not exist."""
        if not version_id:
            return None
        return self._call(
            f"get version {version_id} of pipeline {pipeline_id}",
            self._pipelines.pipeline_service_get_pipeline_version,
            pipeline_id,
            version_id,
            missing_ok=True,
        )

    def list_versions(self, pipeline_id: str) -> list[Any]:
        """Every version of a pipeline, following pagination."""
        versions: list[Any] = []
        token = ""
        while True:
            page = self._call(
                f"list versions of pipeline {pipeline_id}",
                self._pipelines.pipeline_service_list_pipeline_versions,
                pipeline_id,
                page_size=100,
                page_token=token,
            )
            versions.extend(page.pipeline_versions or [])
            token = page.next_page_token or ""
            if not token:
                return versions

    def find_version(self, pipeline_id: str, version_name: str) -> str | None:
        """The ID of the version with this name, if the pipeline has one."""
        for version in self.list_versions(pipeline_id):
            if version_name in (version.name, version.display_name):
                return str(version.pipeline_version_id)
        return None

    def delete_pipeline(self, pipeline_id: str) -> None:
        """Delete the pipeline with all its versions; already gone counts as done."""
        self._call(
            f"delete pipeline {pipeline_id}",
            self._pipelines.pipeline_service_delete_pipeline,
            pipeline_id,
            cascade=True,
            missing_ok=True,
        )

    def _call(
        self, action: str, method: Any, *args: Any, missing_ok: bool = False, **kw: Any
    ) -> Any:
        try:
            return method(*args, _request_timeout=self.timeout, **kw)
        except ApiException as err:
            if missing_ok and err.status == 404:
                return None
            raise KfpApiError(
                f"cannot {action}: the KFP API at {self.api_url} answered HTTP "
                f"{err.status}: {error_message(err)}",
                status=err.status,
            ) from err
        except (HTTPError, OSError) as err:
            raise KfpApiError(
                f"cannot {action}: the KFP API at {self.api_url} is unreachable ({err}). "
                "Check the KFP API URL setting and that the API server is running and reachable."
            ) from err


def error_message(err: ApiException) -> str:
    """The server's own message (KFP puts it in ``error_message`` or ``message``)."""
    body = err.body.decode(errors="replace") if isinstance(err.body, bytes) else err.body or ""
    try:
        parsed = json.loads(body)
    except ValueError:
        return (body.strip() or str(err.reason))[:500]
    if isinstance(parsed, dict):
        return str(parsed.get("error_message") or parsed.get("message") or parsed)[:500]
    return str(parsed)[:500]
