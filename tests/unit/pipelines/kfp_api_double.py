"""FakeKfpApi: an HTTP double of the KFP v2beta1 pipeline endpoints, on 127.0.0.1 only.

It is a test double, not KFP: it keeps pipelines and versions in memory and mimics the
behaviours deployment depends on (version names unique per pipeline, a pipeline with versions
cannot be deleted, specs that are not KFP IR are rejected with HTTP 400, paginated lists).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

PREFIX = "/apis/v2beta1/pipelines"


@dataclass
class Seen:
    """One request as the double received it."""

    method: str
    path: str
    authorization: str | None


@dataclass
class FakeKfpApi:
    """Pipelines and versions in memory behind a real HTTP server on a free loopback port."""

    page_size_cap: int = 2
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeKfpApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        serve = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        serve.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def writes(self) -> list[Seen]:
        """Requests that would change state (anything but GET)."""
        return [s for s in self.seen if s.method != "GET"]

    # --- the endpoints -------------------------------------------------------------------

    def create_pipeline(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = body.get("name") or body.get("display_name")
        if not name:
            return 400, _error("pipeline name is empty", 3)
        if any(p["name"] == name for p in self.pipelines.values()):
            return 409, _error(f"pipeline with name {name!r} already exists", 6)
        pipeline_id = str(uuid.uuid4())
        self.pipelines[pipeline_id] = {**body, "name": name, "pipeline_id": pipeline_id}
        self.versions[pipeline_id] = []
        return 200, self.pipelines[pipeline_id]

    def upload_version(self, query: dict[str, str], package: bytes) -> tuple[int, dict[str, Any]]:
        pipeline_id = query.get("pipelineid", "")
        if pipeline_id not in self.pipelines:
            return 404, _error(f"pipeline {pipeline_id} not found", 5)
        problem = _spec_problem(package)
        if problem:
            return 400, _error(f"Failed to upload pipeline version: {problem}", 3)
        name = query.get("name", "")
        if any(v["name"] == name for v in self.versions[pipeline_id]):
            return 409, _error(f"version {name!r} already exists", 6)
        version = {
            "pipeline_id": pipeline_id,
            "pipeline_version_id": str(uuid.uuid4()),
            "name": name,
            "display_name": query.get("display_name", name),
            "description": query.get("description", ""),
        }
        self.versions[pipeline_id].append(version)
        self.packages[version["pipeline_version_id"]] = package.decode()
        return 200, version

    def list_versions(self, pipeline_id: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if pipeline_id not in self.pipelines:
            return 404, _error(f"pipeline {pipeline_id} not found", 5)
        start = int(query.get("page_token") or 0)
        size = min(int(query.get("page_size") or 10), self.page_size_cap)
        versions = self.versions[pipeline_id]
        page: dict[str, Any] = {
            "pipeline_versions": versions[start : start + size],
            "total_size": len(versions),
        }
        if start + size < len(versions):
            page["next_page_token"] = str(start + size)
        return 200, page

    def get_version(self, pipeline_id: str, version_id: str) -> tuple[int, dict[str, Any]]:
        for version in self.versions.get(pipeline_id, []):
            if version["pipeline_version_id"] == version_id:
                return 200, version
        return 404, _error(f"version {version_id} not found", 5)

    def delete_version(self, pipeline_id: str, version_id: str) -> tuple[int, dict[str, Any]]:
        status, _ = self.get_version(pipeline_id, version_id)
        if status == 404:
            return status, _error(f"version {version_id} not found", 5)
        self.versions[pipeline_id] = [
            v for v in self.versions[pipeline_id] if v["pipeline_version_id"] != version_id
        ]
        return 200, {}

    def delete_pipeline(self, pipeline_id: str) -> tuple[int, dict[str, Any]]:
        if pipeline_id not in self.pipelines:
            return 404, _error(f"pipeline {pipeline_id} not found", 5)
        if self.versions[pipeline_id]:
            return 400, _error("pipeline has versions: delete them first", 9)
        del self.pipelines[pipeline_id]
        del self.versions[pipeline_id]
        return 200, {}

    def route(self, method: str, url: str, headers: Any, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if not parts.path.startswith(PREFIX):
            return 404, _error("not found", 5)
        rest = [p for p in parts.path[len(PREFIX) :].split("/") if p]
        if method == "POST" and rest == []:
            return self.create_pipeline(json.loads(body or b"{}"))
        if method == "POST" and rest == ["upload_version"]:
            return self.upload_version(query, _multipart_file(headers, body, "uploadfile"))
        if len(rest) == 1:
            return self._pipeline(method, rest[0])
        if len(rest) == 2 and rest[1] == "versions" and method == "GET":
            return self.list_versions(rest[0], query)
        if len(rest) == 3 and rest[1] == "versions":
            if method == "GET":
                return self.get_version(rest[0], rest[2])
            if method == "DELETE":
                return self.delete_version(rest[0], rest[2])
        return 405, _error(f"{method} {parts.path} is not part of the double", 12)

    def _pipeline(self, method: str, pipeline_id: str) -> tuple[int, Any]:
        if method == "DELETE":
            return self.delete_pipeline(pipeline_id)
        if pipeline_id in self.pipelines:
            return 200, self.pipelines[pipeline_id]
        return 404, _error(f"pipeline {pipeline_id} not found", 5)


def _error(message: str, code: int) -> dict[str, Any]:
    return {"error_message": message, "code": code, "message": message}


def _spec_problem(package: bytes) -> str | None:
    try:
        spec = yaml.safe_load(package)
    except yaml.YAMLError as err:
        return f"invalid YAML: {err}"
    if not isinstance(spec, dict) or "pipelineInfo" not in spec or "root" not in spec:
        return "not a KFP pipeline spec (no pipelineInfo/root)"
    return None


def _multipart_file(headers: Any, body: bytes, field_name: str) -> bytes:
    head = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == field_name:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    return b""


def _handler(api: FakeKfpApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            api.seen.append(Seen(self.command, path, self.headers.get("Authorization")))
            status, payload = api.route(self.command, self.path, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's method names

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is the requests the test asserts on."""

    return Handler
