"""KfpPipeline without a KFP server: diff and check, the bearer token on the wire (the
standalone KFP API server the integration tests run does no authentication), the error for
an unreachable API, and the registration under Pulumi mocks. Create, update, refresh and
delete run against the real KFP API server: tests/integration/test_pipelines_*.py."""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import kfp_server_api
import pulumi
import pytest
import urllib3
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from pipelines.catalog import EXAMPLES, compiled_text, get_example
from pipelines.cluster_run import ClusterRunError, run_on_cluster
from pipelines.deploy import (
    KfpPipeline,
    KfpPipelineArgs,
    KfpPipelineProvider,
    deploy_example_pipelines,
    package_digest,
)
from pipelines.kfp_client import KfpApi, KfpApiError
from tests.paths import REPO

UI = "http://kfp-ui.example:8080"
API = "http://kfp-api.example:8888"
SPEC_V1 = "pipelineInfo:\n  name: demo\nroot:\n  dag: {tasks: {}}\nschemaVersion: 2.1.0\n"
SPEC_V2 = SPEC_V1.replace("demo", "demo-v2")


def props(api_url: str = API, package: str = SPEC_V1, **extra: Any) -> dict[str, Any]:
    return {
        "name": "demo",
        "api_url": api_url,
        "ui_base_url": UI,
        "package": package,
        "description": "a demo",
        **extra,
    }


def state(package: str = SPEC_V1, **extra: Any) -> dict[str, Any]:
    """The outputs a created pipeline has in the state."""
    return {
        **props(package=package, **extra),
        "version_id": "v1",
        "digest": package_digest(package),
    }


@dataclass
class Transport:
    """Stands in for the SDK client's HTTP layer: records each request, answers from a
    table of (method, path suffix) -> JSON body."""

    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    def request(self, _rest: Any, method: str, url: str, **kwargs: Any) -> Any:
        headers = {k.lower(): v for k, v in (kwargs.get("headers") or {}).items()}
        self.seen.append((method, url, headers.get("authorization")))
        path = url.split("/apis/v2beta1", 1)[1]
        for (want_method, suffix), body in self.answers.items():
            if method == want_method and path.endswith(suffix):
                raw = urllib3.HTTPResponse(
                    body=json.dumps(body).encode(),
                    status=200,
                    headers={"Content-Type": "application/json"},
                    preload_content=True,
                )
                return kfp_server_api.rest.RESTResponse(raw)
        raise AssertionError(f"unexpected {method} {url}")


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[Transport]:
    fake = Transport(
        {
            ("POST", "/pipelines"): {"pipeline_id": "p1", "name": "demo"},
            ("GET", "/pipelines/p1/versions"): {"pipeline_versions": []},
            ("POST", "/pipelines/upload_version"): {
                "pipeline_id": "p1",
                "pipeline_version_id": "v1",
            },
            ("GET", "/pipelines/p1"): {"pipeline_id": "p1", "name": "demo"},
            ("DELETE", "/pipelines/p1"): {},
        }
    )

    def request(rest: Any, method: str, url: str, **kwargs: Any) -> Any:
        return fake.request(rest, method, url, **kwargs)

    monkeypatch.setattr(kfp_server_api.rest.RESTClientObject, "request", request)
    yield fake


def test_same_spec_is_no_change() -> None:
    diff = KfpPipelineProvider().diff("p1", state(), props())

    assert diff.changes is False


def test_changed_spec_is_an_update_not_a_replace() -> None:
    diff = KfpPipelineProvider().diff("p1", state(), props(package=SPEC_V2))

    assert diff.changes is True and not diff.replaces


def test_renaming_replaces_and_settings_changes_update() -> None:
    provider = KfpPipelineProvider()

    renamed = provider.diff("p1", state(), {**props(), "name": "other"})
    moved_ui = provider.diff("p1", state(), {**props(), "ui_base_url": "http://new"})

    assert renamed.replaces == ["name"]
    assert moved_ui.changes is True and not moved_ui.replaces


def test_bearer_token_is_sent_on_every_request(transport: Transport) -> None:
    KfpPipelineProvider().create(props(token="s3cr3t-token"))

    assert [(m, u.split("/apis/v2beta1")[1]) for m, u, _ in transport.seen] == [
        ("POST", "/pipelines"),
        ("GET", "/pipelines/p1/versions"),
        ("POST", "/pipelines/upload_version"),
    ]
    assert {auth for _, _, auth in transport.seen} == {"Bearer s3cr3t-token"}


def test_a_rotated_token_is_used_from_the_next_update_on(transport: Transport) -> None:
    provider = KfpPipelineProvider()
    new = props(token="new-token")

    assert provider.diff("p1", state(token="old-token"), new).changes is True
    provider.update("p1", state(token="old-token"), new)
    provider.delete("p1", new)

    assert transport.seen and {auth for _, _, auth in transport.seen} == {"Bearer new-token"}


def test_without_a_token_no_authorization_header_is_sent(transport: Transport) -> None:
    KfpPipelineProvider().delete("p1", props())

    assert [auth for _, _, auth in transport.seen] == [None]


def test_unreachable_api_is_a_clear_error(closed_url: str) -> None:
    with pytest.raises(KfpApiError) as raised:
        KfpPipelineProvider().create(props(closed_url))

    message = str(raised.value)
    assert closed_url in message and "unreachable" in message and "KFP API URL" in message


def test_check_rejects_inputs_that_cannot_work() -> None:
    bad = {**props("kfp.local:8888", "not a spec"), "name": " "}

    failures = KfpPipelineProvider().check({}, bad).failures

    assert {f.property for f in failures} == {"api_url", "name", "package"}


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("api_url", "https://admin:hunter2@kfp.example"),
        ("ui_base_url", "http://admin@kfp.example"),
        ("api_url", "http://"),
        ("ui_base_url", "ftp://kfp.example"),
    ],
)
def test_check_refuses_a_url_that_is_not_http_or_carries_credentials(key: str, url: str) -> None:
    failures = KfpPipelineProvider().check({}, {**props(), key: url}).failures

    assert [f.property for f in failures] == [key]
    assert failures[0].reason.startswith(f"{key} ")
    assert "hunter2" not in failures[0].reason


def test_a_run_refuses_an_api_url_with_credentials_without_echoing_them() -> None:
    with pytest.raises(ClusterRunError) as raised:
        run_on_cluster(get_example("hello"), "https://admin:hunter2@kfp.example")

    assert str(raised.value).startswith("--api-url must not carry credentials")
    assert "hunter2" not in str(raised.value)


def test_every_call_of_the_kfp_client_has_a_caller() -> None:
    """KfpApi wraps only what deployment needs: a call nothing makes is dead code."""
    calls = [name for name, _ in inspect.getmembers(KfpApi, inspect.isfunction)]
    sources = "".join(
        path.read_text()
        for folder in ("pipelines", "infra")
        for path in (REPO / folder).glob("*.py")
    )
    assert [c for c in calls if not c.startswith("_") and f".{c}(" not in sources] == []


@pytest.mark.parametrize(
    ("package", "problem"),
    [
        (SPEC_V1.replace("2.1.0", "2.0.0"), "schemaVersion '2.0.0'; KFP accepts only '2.1.0'"),
        (SPEC_V1.replace("  name: demo\n", "  description: x\n"), "no pipelineInfo.name"),
        ("pipelineInfo: {name: demo}\nschemaVersion: 2.1.0\n", "no root component"),
        ("pipelineInfo: [unclosed\n", "package is not YAML"),
    ],
)
def test_check_names_what_the_server_would_reject(package: str, problem: str) -> None:
    failures = KfpPipelineProvider().check({}, props(package=package)).failures

    assert [f.property for f in failures] == ["package"]
    assert problem in failures[0].reason


def test_a_spec_the_server_refused_is_explained_by_its_proto_problems() -> None:
    from pipelines.spec_check import proto_problems

    bad = SPEC_V1.replace("root:\n", "root:\n  notAField: 1\n")

    assert proto_problems(SPEC_V1) == []
    [problem] = proto_problems(bad)
    assert "notAField" in problem


def test_pickled_provider_is_small() -> None:
    assert len(base64.b64decode(serialize_provider(KfpPipelineProvider()))) < 1024


# --- registration under Pulumi mocks --------------------------------------------------


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[args.name] = dict(args.inputs)
        outs = dict(args.inputs, pipeline_id=f"{args.name}-pid", version_id=f"{args.name}-vid")
        return f"{args.name}-pid", outs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []  # no check failures: a list (the SDK's monitor iterates it)


def registered(program: Any) -> Mocks:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="kubeflow", stack="unit", preview=False)
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    return mocks


def test_example_pipelines_register_with_their_compiled_specs() -> None:
    resources: dict[str, KfpPipeline] = {}

    def program() -> None:
        resources.update(deploy_example_pipelines("http://kfp-api:8888", UI))

    mocks = registered(program)

    assert set(resources) == {"hello", "iris"}
    for key, example in EXAMPLES.items():
        inputs = mocks.inputs[f"kfp-pipeline-{key}"]
        assert inputs["name"] == example.pipeline_name
        assert inputs["api_url"] == "http://kfp-api:8888"
        assert inputs["ui_base_url"] == UI
        assert inputs["package"] == compiled_text(example)
        assert "__provider" in inputs
        assert "token" not in inputs


def test_a_subset_of_examples_can_be_deployed() -> None:
    resources: dict[str, KfpPipeline] = {}

    mocks = registered(
        lambda: resources.update(deploy_example_pipelines("http://a", UI, examples=["iris"]))
    )

    assert set(resources) == {"iris"}
    assert set(mocks.inputs) == {"kfp-pipeline-iris"}


def test_an_unknown_example_is_named_with_the_setting() -> None:
    with pytest.raises(ValueError, match=r"examplePipelines.pipelines: .*'mnist'.*hello, iris"):
        deploy_example_pipelines("http://a", UI, examples=["mnist"])


def test_token_is_registered_as_a_secret() -> None:
    pipeline_ids: list[str] = []

    def program() -> None:
        resource = KfpPipeline(
            "demo-auth",
            KfpPipelineArgs(
                name="demo-auth",
                api_url="http://kfp-api:8888",
                ui_base_url=UI,
                package=SPEC_V1,
                token="s3cr3t-token",
            ),
        )
        resource.pipeline_id.apply(pipeline_ids.append)

    mocks = registered(program)

    token = mocks.inputs["demo-auth"]["token"]
    assert token == {rpc._special_sig_key: rpc._special_secret_sig, "value": "s3cr3t-token"}
    assert pipeline_ids == ["demo-auth-pid"]
