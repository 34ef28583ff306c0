"""KfpPipeline: the dynamic provider's CRUD against FakeKfpApi, and its registration."""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from pipelines.catalog import EXAMPLES, compiled_text
from pipelines.deploy import (
    KfpPipeline,
    KfpPipelineArgs,
    KfpPipelineProvider,
    deploy_example_pipelines,
)
from pipelines.kfp_api import KfpApiError
from tests.unit.pipelines.kfp_api_double import FakeKfpApi

UI = "http://kfp-ui.example:8080"
SPEC_V1 = "pipelineInfo:\n  name: demo\nroot:\n  dag: {tasks: {}}\nschemaVersion: 2.1.0\n"
SPEC_V2 = SPEC_V1.replace("demo", "demo-v2")


@pytest.fixture
def kfp() -> Iterator[FakeKfpApi]:
    api = FakeKfpApi().start()
    yield api
    api.stop()


def props(api_url: str, package: str = SPEC_V1, **extra: Any) -> dict[str, Any]:
    return {
        "name": "demo",
        "api_url": api_url,
        "ui_base_url": UI,
        "package": package,
        "description": "a demo",
        **extra,
    }


def created(kfp: FakeKfpApi, package: str = SPEC_V1) -> tuple[str, dict[str, Any]]:
    result = KfpPipelineProvider().create(props(kfp.url, package))
    assert result.outs is not None
    return str(result.id), result.outs


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_create_uploads_pipeline_and_one_version_named_by_digest(kfp: FakeKfpApi) -> None:
    pipeline_id, outs = created(kfp)

    digest = hashlib.sha256(SPEC_V1.encode()).hexdigest()
    [version] = kfp.versions[pipeline_id]
    assert kfp.pipelines[pipeline_id]["name"] == "demo"
    assert version["name"] == f"demo-{digest[:12]}"
    assert kfp.packages[version["pipeline_version_id"]] == SPEC_V1
    assert outs["pipeline_id"] == pipeline_id
    assert outs["version_id"] == version["pipeline_version_id"]
    assert outs["digest"] == digest
    assert outs["ui_url"] == (
        f"{UI}/#/pipelines/details/{pipeline_id}/version/{version['pipeline_version_id']}"
    )


def test_same_spec_is_no_change_and_update_uploads_nothing(kfp: FakeKfpApi) -> None:
    pipeline_id, outs = created(kfp)
    provider = KfpPipelineProvider()
    writes_before = len(kfp.writes())

    diff = provider.diff(pipeline_id, outs, props(kfp.url))
    update = provider.update(pipeline_id, outs, props(kfp.url))

    assert diff.changes is False
    assert update.outs is not None and update.outs["version_id"] == outs["version_id"]
    assert len(kfp.writes()) == writes_before
    assert len(kfp.versions[pipeline_id]) == 1


def test_changed_spec_adds_a_version_to_the_same_pipeline(kfp: FakeKfpApi) -> None:
    pipeline_id, outs = created(kfp)
    provider = KfpPipelineProvider()

    diff = provider.diff(pipeline_id, outs, props(kfp.url, SPEC_V2))
    update = provider.update(pipeline_id, outs, props(kfp.url, SPEC_V2))

    assert diff.changes is True and not diff.replaces
    assert update.outs is not None
    assert update.outs["pipeline_id"] == pipeline_id
    assert update.outs["digest"] == hashlib.sha256(SPEC_V2.encode()).hexdigest()
    assert update.outs["version_id"] != outs["version_id"]
    assert [v["pipeline_version_id"] for v in kfp.versions[pipeline_id]] == [
        outs["version_id"],
        update.outs["version_id"],
    ]
    assert kfp.packages[update.outs["version_id"]] == SPEC_V2


def test_going_back_to_an_earlier_spec_reuses_its_version(kfp: FakeKfpApi) -> None:
    pipeline_id, v1 = created(kfp)
    provider = KfpPipelineProvider()
    v2 = provider.update(pipeline_id, v1, props(kfp.url, SPEC_V2)).outs
    assert v2 is not None

    back = provider.update(pipeline_id, v2, props(kfp.url, SPEC_V1)).outs

    assert back is not None and back["version_id"] == v1["version_id"]
    assert len(kfp.versions[pipeline_id]) == 2


def test_renaming_replaces_and_settings_changes_update(kfp: FakeKfpApi) -> None:
    pipeline_id, outs = created(kfp)
    provider = KfpPipelineProvider()

    renamed = provider.diff(pipeline_id, outs, {**props(kfp.url), "name": "other"})
    moved_ui = provider.diff(pipeline_id, outs, {**props(kfp.url), "ui_base_url": "http://new"})

    assert renamed.replaces == ["name"]
    assert moved_ui.changes is True and not moved_ui.replaces


def test_delete_removes_the_pipeline_and_all_versions(kfp: FakeKfpApi) -> None:
    kfp.page_size_cap = 1  # three versions: delete must follow pagination
    pipeline_id, outs = created(kfp)
    provider = KfpPipelineProvider()
    outs = provider.update(pipeline_id, outs, props(kfp.url, SPEC_V2)).outs or {}
    provider.update(pipeline_id, outs, props(kfp.url, SPEC_V2 + "# 3\n"))
    assert len(kfp.versions[pipeline_id]) == 3

    provider.delete(pipeline_id, outs)
    provider.delete(pipeline_id, outs)  # already gone: still fine

    assert kfp.pipelines == {} and kfp.versions == {}


def test_refresh_forgets_a_pipeline_deleted_in_kfp(kfp: FakeKfpApi) -> None:
    pipeline_id, outs = created(kfp)
    provider = KfpPipelineProvider()
    assert provider.read(pipeline_id, outs).id == pipeline_id

    for version in list(kfp.versions[pipeline_id]):
        kfp.delete_version(pipeline_id, version["pipeline_version_id"])
    kfp.delete_pipeline(pipeline_id)

    assert provider.read(pipeline_id, outs).id == ""


def test_refresh_after_a_version_was_deleted_in_kfp_leads_to_a_re_upload(
    kfp: FakeKfpApi,
) -> None:
    pipeline_id, outs = created(kfp)
    provider = KfpPipelineProvider()
    kfp.delete_version(pipeline_id, outs["version_id"])

    refreshed = provider.read(pipeline_id, outs)
    assert refreshed.id == pipeline_id and refreshed.outs is not None
    assert provider.diff(pipeline_id, refreshed.outs, props(kfp.url)).changes is True
    update = provider.update(pipeline_id, refreshed.outs, props(kfp.url)).outs

    [version] = kfp.versions[pipeline_id]
    assert update is not None and update["version_id"] == version["pipeline_version_id"]
    assert kfp.packages[version["pipeline_version_id"]] == SPEC_V1


def test_update_of_a_pipeline_missing_in_kfp_says_how_to_recover(kfp: FakeKfpApi) -> None:
    pipeline_id, outs = created(kfp)
    KfpPipelineProvider().delete(pipeline_id, outs)

    with pytest.raises(KfpApiError, match="pulumi refresh"):
        KfpPipelineProvider().update(pipeline_id, outs, props(kfp.url, SPEC_V2))


def test_unreachable_api_is_a_clear_error() -> None:
    url = closed_port_url()

    with pytest.raises(KfpApiError) as raised:
        KfpPipelineProvider().create(props(url))

    message = str(raised.value)
    assert url in message and "unreachable" in message and "KFP API URL" in message


def test_rejected_spec_is_a_clear_error_and_leaves_nothing_behind(kfp: FakeKfpApi) -> None:
    with pytest.raises(KfpApiError) as raised:
        KfpPipelineProvider().create(props(kfp.url, "just: text\n"))

    assert "HTTP 400" in str(raised.value)
    assert "not a KFP pipeline spec" in str(raised.value)
    assert kfp.pipelines == {}


def test_existing_pipeline_name_is_reported_not_adopted(kfp: FakeKfpApi) -> None:
    created(kfp)

    with pytest.raises(KfpApiError, match=r"HTTP 409.*already exists"):
        KfpPipelineProvider().create(props(kfp.url))


def test_bearer_token_is_sent_on_every_request(kfp: FakeKfpApi) -> None:
    KfpPipelineProvider().create(props(kfp.url, token="s3cr3t-token"))

    assert kfp.seen
    assert {seen.authorization for seen in kfp.seen} == {"Bearer s3cr3t-token"}


def test_a_rotated_token_is_used_from_the_next_update_on(kfp: FakeKfpApi) -> None:
    result = KfpPipelineProvider().create(props(kfp.url, token="old-token"))
    pipeline_id, outs = str(result.id), result.outs or {}
    provider = KfpPipelineProvider()
    new = props(kfp.url, token="new-token")

    assert provider.diff(pipeline_id, outs, new).changes is True
    outs = provider.update(pipeline_id, outs, new).outs or {}
    kfp.seen.clear()
    provider.delete(pipeline_id, outs)

    assert {seen.authorization for seen in kfp.seen} == {"Bearer new-token"}
    assert kfp.pipelines == {}


def test_check_rejects_inputs_that_cannot_work() -> None:
    bad = {**props("kfp.local:8888", "not a spec"), "name": " "}

    failures = KfpPipelineProvider().check({}, bad).failures

    assert {f.property for f in failures} == {"api_url", "name", "package"}


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
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


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
