"""Parsed manifests are kept as JSON by the digest of their text (components/parsed.py): a
text is parsed once, a changed text again, and what JSON cannot hold unchanged is never
cached. The cache never changes what a manifest means, and never fails a program."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import parsed
from components.manifests import ManifestError, load_objects

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n"


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "parsed"
    monkeypatch.setenv(parsed.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def yaml_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text PyYAML parses from now on."""
    calls: list[str] = []
    load_all = yaml.load_all

    def counting(text: str, Loader: Any) -> Iterator[Any]:  # noqa: N803 (PyYAML's name)
        calls.append(text)
        return load_all(text, Loader=Loader)

    monkeypatch.setattr(yaml, "load_all", counting)
    return calls


def test_a_file_is_parsed_once_and_then_read_from_the_cache(
    cache: Path, yaml_calls: list[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "install.yaml"
    manifest.write_text(f"---\n{CONFIG_MAP}---\n")
    first = load_objects(manifest)
    second = load_objects(manifest)
    assert first == second == [yaml.safe_load(CONFIG_MAP)]
    assert len(yaml_calls) == 1
    assert len(list(cache.glob("*.json"))) == 1


def test_a_changed_file_is_parsed_again(cache: Path, yaml_calls: list[str], tmp_path: Path) -> None:
    manifest = tmp_path / "install.yaml"
    manifest.write_text(CONFIG_MAP)
    load_objects(manifest)
    manifest.write_text(CONFIG_MAP.replace("'1'", "'2'"))
    assert load_objects(manifest)[0]["data"] == {"a": "2"}
    assert len(yaml_calls) == 2


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("created: 2024-01-02", {"created": datetime.date(2024, 1, 2)}),
        ("ports: {80: http}", {"ports": {80: "http"}}),
    ],
)
def test_what_json_would_change_is_parsed_every_time(
    cache: Path, yaml_calls: list[str], text: str, value: dict[str, Any]
) -> None:
    assert parsed.load_all(text) == [value]
    assert parsed.load_all(text) == [value]
    assert len(yaml_calls) == 2
    assert not list(cache.glob("*"))


def test_a_damaged_entry_is_parsed_again_and_rewritten(cache: Path, yaml_calls: list[str]) -> None:
    parsed.load_all(CONFIG_MAP)
    (entry,) = cache.glob("*.json")
    entry.write_text('[{"kind": "Conf')
    assert parsed.load_all(CONFIG_MAP) == [yaml.safe_load(CONFIG_MAP)]
    assert parsed.load_all(CONFIG_MAP) == [yaml.safe_load(CONFIG_MAP)]
    assert len(yaml_calls) == 2


def test_a_cache_that_cannot_be_written_only_costs_a_parse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, yaml_calls: list[str]
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv(parsed.CACHE_ENV, str(blocked / "parsed"))
    assert (
        parsed.load_all(CONFIG_MAP) == parsed.load_all(CONFIG_MAP) == [yaml.safe_load(CONFIG_MAP)]
    )
    assert len(yaml_calls) == 2


def test_the_cache_is_under_the_tools_cache_unless_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(parsed.CACHE_ENV, raising=False)
    monkeypatch.setenv(parsed.TOOLS_ENV, str(tmp_path))
    assert parsed.cache_dir() == tmp_path / "parsed"


def test_invalid_yaml_is_an_error_naming_the_file_and_is_not_cached(
    cache: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "broken.yaml"
    manifest.write_text("kind: [ConfigMap\n")
    with pytest.raises(ManifestError, match=r"broken.yaml: not valid YAML"):
        load_objects(manifest)
    assert not cache.exists()
