"""KfpPipelineProvider's create/update/read/delete called directly against the real KFP API
server (conftest.py): the cases the engine test does not walk through, checked with the kfp
SDK's own client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kfp_server_api.exceptions import ApiException

from pipelines.deploy import KfpPipelineProvider, package_digest
from pipelines.kfp_client import KfpApiError
from tests.integration.conftest import RealKfp, spec

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline_name(request: pytest.FixtureRequest, real_kfp: RealKfp) -> Iterator[str]:
    """A pipeline name unique to the test; whatever the test left on the server is removed."""
    name = f"prov-{request.node.name.removeprefix('test_')[:40].replace('_', '-')}"
    yield name
    client = real_kfp.client()
    for pipeline in client.list_pipelines(page_size=100).pipelines or []:
        if pipeline.display_name == name:
            client.delete_pipeline(pipeline.pipeline_id)  # it has no versions left by then


def props(kfp: RealKfp, name: str, package: str) -> dict[str, Any]:
    return {
        "name": name,
        "api_url": kfp.api_url,
        "ui_base_url": "http://ui",
        "package": package,
        "description": "",
    }


def created(kfp: RealKfp, name: str, package: str) -> tuple[str, dict[str, Any]]:
    result = KfpPipelineProvider().create(props(kfp, name, package))
    assert result.outs is not None
    return str(result.id), result.outs


def version_ids(kfp: RealKfp, pipeline_id: str) -> list[str]:
    found = kfp.client().list_pipeline_versions(pipeline_id, page_size=100).pipeline_versions
    return [v.pipeline_version_id for v in found or []]


def test_going_back_to_an_earlier_spec_reuses_its_version(
    real_kfp: RealKfp, pipeline_name: str
) -> None:
    v1, v2 = spec(pipeline_name), spec(f"{pipeline_name}-v2")
    pipeline_id, first = created(real_kfp, pipeline_name, v1)
    provider = KfpPipelineProvider()
    second = provider.update(pipeline_id, first, props(real_kfp, pipeline_name, v2)).outs
    assert second is not None

    back = provider.update(pipeline_id, second, props(real_kfp, pipeline_name, v1)).outs

    assert back is not None and back["version_id"] == first["version_id"]
    assert back["digest"] == package_digest(v1)
    assert sorted(version_ids(real_kfp, pipeline_id)) == sorted(
        [first["version_id"], second["version_id"]]
    )
    provider.delete(pipeline_id, back)
    provider.delete(pipeline_id, back)  # already gone: still fine
    with pytest.raises(ApiException) as gone:
        real_kfp.client().get_pipeline(pipeline_id)
    assert gone.value.status == 404


def test_refresh_forgets_a_pipeline_deleted_in_kfp(real_kfp: RealKfp, pipeline_name: str) -> None:
    pipeline_id, outs = created(real_kfp, pipeline_name, spec(pipeline_name))
    provider = KfpPipelineProvider()
    assert provider.read(pipeline_id, outs).id == pipeline_id

    real_kfp.client().delete_pipeline_version(pipeline_id, outs["version_id"])
    real_kfp.client().delete_pipeline(pipeline_id)

    assert provider.read(pipeline_id, outs).id == ""


def test_update_of_a_pipeline_missing_in_kfp_says_how_to_recover(
    real_kfp: RealKfp, pipeline_name: str
) -> None:
    pipeline_id, outs = created(real_kfp, pipeline_name, spec(pipeline_name))
    KfpPipelineProvider().delete(pipeline_id, outs)
    changed = props(real_kfp, pipeline_name, spec(f"{pipeline_name}-v2"))

    with pytest.raises(KfpApiError, match="pulumi refresh"):
        KfpPipelineProvider().update(pipeline_id, outs, changed)


def test_an_existing_pipeline_name_is_reported_not_adopted(
    real_kfp: RealKfp, pipeline_name: str
) -> None:
    pipeline_id, outs = created(real_kfp, pipeline_name, spec(pipeline_name))

    with pytest.raises(KfpApiError) as raised:
        KfpPipelineProvider().create(props(real_kfp, pipeline_name, spec(pipeline_name)))

    assert "HTTP 409" in str(raised.value) and "this stack did not create" in str(raised.value)
    assert version_ids(real_kfp, pipeline_id) == [outs["version_id"]]
    KfpPipelineProvider().delete(pipeline_id, outs)


def test_a_rejected_spec_removes_the_pipeline_it_created(
    real_kfp: RealKfp, pipeline_name: str
) -> None:
    # What check() would have stopped: the server's own answer, explained.
    bad = spec(pipeline_name).replace("schemaVersion: 2.1.0", "schemaVersion: 2.0.0")

    with pytest.raises(KfpApiError) as raised:
        KfpPipelineProvider().create(props(real_kfp, pipeline_name, bad))

    assert "HTTP 500" in str(raised.value) and "Fix: upload a spec" in str(raised.value)

    names = [
        p.display_name for p in real_kfp.client().list_pipelines(page_size=100).pipelines or []
    ]
    assert pipeline_name not in names
