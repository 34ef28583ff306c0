"""Release presets: one `kubeflow:release` (or `release=` from Python) sets every component's
default version; a component's own version wins; a bad release or a version the source
cannot provide is a clear error."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components import KubeflowPipelines, PipelinesArgs
from components.catalog import CATALOG
from components.releases import downgrade_problem, release_error, releases
from components.validation import ComponentArgsError
from infra.config import ConfigError, Settings, decode, load_settings
from tests.paths import MIRROR, REPO
from tests.unit.component_helpers import build
from tests.unit.mirror_helpers import cached_loads

# The table: the Kubeflow community distribution README at each tag, with the two
# documented deviations (KFP 2.16.1 in 26.03, Model Registry v0.3.7 in 26.03.1).
EXPECTED = {
    "26.03": {
        "pipelines": "2.16.1",
        "katib": "v0.19.0",
        "training-operator": "v1.9.2",
        "trainer": "v2.1.0",
        "kserve": "v0.16.0",
        "spark-operator": "v2.5.0",
        "model-registry": "v0.3.7",
        "notebooks": "v1.10.0",
        "central-dashboard": "v1.10.0",
        "cert-manager": "v1.19.4",
    },
    "26.03.1": {
        "pipelines": "2.16.1",
        "katib": "v0.19.0",
        "training-operator": "v1.9.2",
        "trainer": "v2.2.0",
        "kserve": "v0.18.0",
        "spark-operator": "v2.5.0",
        "model-registry": "v0.3.7",
        "notebooks": "v1.11.0",
        "central-dashboard": "v2.0.0",
        "cert-manager": "v1.20.2",
    },
}


@pytest.fixture(autouse=True, scope="module")
def parsed_once() -> Iterator[None]:
    """Mirror files parsed once per process: the settings' check reads the manifests of every
    component these tests enable (here only their versions matter)."""
    with cached_loads():
        yield


def settings(release: str, *, mirror: Path = MIRROR, **extra: object) -> dict[str, Any]:
    raw = {
        "release": release,
        "manifestMirror": str(mirror),
        "components": json.dumps(list(CATALOG)),
        **{key: json.dumps(value) for key, value in extra.items()},
    }
    return decode(raw)


def versions(loaded: Settings) -> dict[str, str]:
    return {cid: CATALOG[cid].cls.version_for(a) for cid, a in loaded.component_args.items()}


@pytest.mark.parametrize("release", list(EXPECTED))
def test_each_release_sets_every_component_to_its_version(release: str) -> None:
    loaded = load_settings(settings(release), stack="ci", project_dir=REPO)
    expected = {k: v for k, v in EXPECTED[release].items() if k != "trainer"}
    assert versions(loaded) == expected
    trainer_mode: dict[str, Any] = {"training-operator": {"mode": "trainer"}}  # JSON settings
    trainer = load_settings(
        settings(release, **trainer_mode),
        stack="ci",
        project_dir=REPO,
    )
    assert versions(trainer)["training-operator"] == EXPECTED[release]["trainer"]


def test_the_release_table_names_the_two_deviations() -> None:
    assert set(releases()) == set(EXPECTED)
    assert "2.16.0" in releases()["26.03"].deviations["kfp"]
    assert "v0.3.9" in releases()["26.03.1"].deviations["model-registry"]


def test_a_components_own_version_wins_over_the_release() -> None:
    loaded = load_settings(
        settings("26.03.1", pipelines={"version": "2.15.0"}), stack="ci", project_dir=REPO
    )
    assert versions(loaded)["pipelines"] == "2.15.0"
    assert versions(loaded)["kserve"] == "v0.18.0"


def test_an_unknown_release_is_one_clear_error_under_its_key() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(settings("26.04"), stack="ci", project_dir=REPO)
    message = str(error.value)
    assert "kubeflow:release: release '26.04' is not a known Kubeflow release" in message
    assert "fix: use one of 26.03, 26.03.1" in message
    assert message.count("26.04") == 1  # not repeated under every component


def test_a_release_version_the_mirror_lacks_names_the_release_and_the_fix(
    tmp_path: Path,
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(MIRROR / "kfp", mirror / "kfp", ignore=shutil.ignore_patterns("2.16.1"))
    with pytest.raises(ConfigError) as error:
        load_settings(
            settings("26.03.1", mirror=mirror, components=["pipelines"]),
            stack="ci",
            project_dir=REPO,
        )
    message = str(error.value)
    assert "kubeflow:release 26.03.1 installs kfp 2.16.1" in message
    assert "fix: render that version into the mirror" in message


def test_release_from_python() -> None:
    component = build(KubeflowPipelines, PipelinesArgs(release="26.03.1"))
    assert component.resolved_version == "2.16.1"
    pinned = build(KubeflowPipelines, PipelinesArgs(release="26.03.1", version="2.15.0"))
    assert pinned.resolved_version == "2.15.0"
    with pytest.raises(ComponentArgsError, match="release 'latest' is not a known"):
        build(KubeflowPipelines, PipelinesArgs(release="latest"))


def test_release_error_accepts_only_known_names() -> None:
    assert release_error("26.03.1") is None
    assert release_error(26.03) is not None  # a YAML float is not the release "26.03"


def test_going_back_across_kserve_v0_18_is_refused_with_the_reason() -> None:
    problem = downgrade_problem("kserve", "v0.18.0", "v0.16.0")
    assert problem is not None and "v1alpha2" in problem and "fix:" in problem
    assert downgrade_problem("kserve", "v0.16.0", "v0.18.0") is None  # an upgrade
    assert downgrade_problem("kserve", "v0.18.0", "v0.18.0") is None
    assert downgrade_problem("kfp", "2.16.1", "2.15.0") is None  # no barrier recorded
