"""A small client for the KFP v2beta1 REST API: just what pipeline deployment needs.

Plain ``requests`` rather than ``kfp.Client``: the SDK client reads kube config and local
context files at construction; here every call, header and error is explicit.
"""

from typing import Any

import requests

API = "/apis/v2beta1"


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
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def create_pipeline(self, name: str, description: str) -> str:
        """Create an empty pipeline and return its ID."""
        body = {"name": name, "display_name": name, "description": description}
        try:
            pipeline = self._request("POST", "/pipelines", f"create pipeline {name!r}", json=body)
        except KfpApiError as err:
            if err.status != 409:
                raise
            raise KfpApiError(
                f"{err}. A pipeline named {name!r} exists that this stack did not create. Fix: "
                "delete it in KFP (UI or API) if it is a leftover, or deploy under another name.",
                status=err.status,
            ) from err
        return str(pipeline["pipeline_id"])

    def upload_version(
        self, pipeline_id: str, version_name: str, package: str, description: str
    ) -> str:
        """Upload a compiled pipeline (IR YAML) as a new version; return the version ID."""
        params = {
            "pipelineid": pipeline_id,
            "name": version_name,
            "display_name": version_name,
            "description": description,
        }
        files = {"uploadfile": (f"{version_name}.yaml", package.encode(), "application/x-yaml")}
        version = self._request(
            "POST",
            "/pipelines/upload_version",
            f"upload version {version_name!r} of pipeline {pipeline_id}",
            params=params,
            files=files,
        )
        return str(version["pipeline_version_id"])

    def get_pipeline(self, pipeline_id: str) -> dict[str, Any] | None:
        """The pipeline, or None when the server has no such pipeline."""
        return self._get_or_none(f"/pipelines/{pipeline_id}", f"get pipeline {pipeline_id}")

    def get_version(self, pipeline_id: str, version_id: str) -> dict[str, Any] | None:
        """The pipeline version, or None when it does not exist."""
        path = f"/pipelines/{pipeline_id}/versions/{version_id}"
        return self._get_or_none(path, f"get version {version_id} of pipeline {pipeline_id}")

    def list_versions(self, pipeline_id: str) -> list[dict[str, Any]]:
        """Every version of a pipeline, following pagination."""
        versions: list[dict[str, Any]] = []
        token = ""
        while True:
            page = self._request(
                "GET",
                f"/pipelines/{pipeline_id}/versions",
                f"list versions of pipeline {pipeline_id}",
                params={"page_size": 100, "page_token": token},
            )
            versions.extend(page.get("pipeline_versions") or [])
            token = page.get("next_page_token") or ""
            if not token:
                return versions

    def find_version(self, pipeline_id: str, version_name: str) -> str | None:
        """The ID of the version with this name, if the pipeline has one."""
        for version in self.list_versions(pipeline_id):
            if version.get("name") == version_name or version.get("display_name") == version_name:
                return str(version["pipeline_version_id"])
        return None

    def delete_pipeline(self, pipeline_id: str) -> None:
        """Delete every version, then the pipeline; already gone counts as done."""
        if self.get_pipeline(pipeline_id) is None:
            return
        for version in self.list_versions(pipeline_id):
            version_id = version["pipeline_version_id"]
            self._request(
                "DELETE",
                f"/pipelines/{pipeline_id}/versions/{version_id}",
                f"delete version {version_id} of pipeline {pipeline_id}",
                missing_ok=True,
            )
        self._request(
            "DELETE", f"/pipelines/{pipeline_id}", f"delete pipeline {pipeline_id}", missing_ok=True
        )

    def _get_or_none(self, path: str, action: str) -> dict[str, Any] | None:
        found = self._request("GET", path, action, missing_ok=True)
        return found or None

    def _request(
        self, method: str, path: str, action: str, missing_ok: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        url = f"{self.api_url}{API}{path}"
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as err:
            raise KfpApiError(
                f"cannot {action}: the KFP API at {self.api_url} is unreachable ({err}). "
                "Check the KFP API URL setting and that the API server is running and reachable."
            ) from err
        if missing_ok and response.status_code == 404:
            return {}
        if not response.ok:
            raise KfpApiError(
                f"cannot {action}: the KFP API at {self.api_url} answered HTTP "
                f"{response.status_code}: {_error_message(response)}",
                status=response.status_code,
            )
        return _json(response)


def _error_message(response: requests.Response) -> str:
    """The server's own message (KFP puts it in ``error_message`` or ``message``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason
    if isinstance(body, dict):
        return str(body.get("error_message") or body.get("message") or body)[:500]
    return str(body)[:500]


def _json(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    body = response.json()
    return body if isinstance(body, dict) else {}
