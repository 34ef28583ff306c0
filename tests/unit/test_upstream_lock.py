"""The lock: the digest of what each pinned upstream part renders to, checked on every
render; `python -m components.lock` records it (here always into a lock of the test's own,
never the repository's)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from components import UpstreamSource
from components.lock import main
from components.manifests import ManifestError, ManifestPart, parse_objects
from components.render import Reference, digest
from components.upstream import LOCK_FILE, LockData, read_lock, write_lock
from tests.unit.component_helpers import kube_objects, pulumi_warnings
from tests.unit.local_upstreams import (
    CRD,
    OBJECTS,
    Demo,
    demo_install,
    git,
    git_repository,
    with_parts,
    write_yaml,
)
from tests.unit.mocks import Recorder

REAL_TOOLS = ("kustomize", "helm", "download")


def test_the_digest_is_of_the_objects_not_of_their_bytes() -> None:
    as_yaml = yaml.safe_dump_all([CRD, *OBJECTS], sort_keys=False)
    as_json = "\n---\n".join(json.dumps(o, indent=4) for o in reversed([CRD, *OBJECTS]))
    assert digest(parse_objects(as_yaml, "yaml")) == digest(parse_objects(as_json, "json"))
    assert digest(OBJECTS) != digest([CRD, *OBJECTS])
    assert digest(OBJECTS).startswith("sha256:")


def mirror_made(lock: LockData) -> list[str]:
    """The entries of `lock` that no real renderer made (a mirror file, by hand)."""
    return [
        f"{project} {version} {part}"
        for project, versions in lock.items()
        for version, parts in versions.items()
        for part, entry in parts.items()
        if entry["rendered_by"].split()[0] not in REAL_TOOLS or entry["objects"] < 1
    ]


def test_the_repository_lock_reads_and_holds_only_digests_of_real_renders(
    demo: tuple[type[Demo], Path], tmp_path: Path
) -> None:
    """Recorded by `make lock` from real renders only, never from a mirror file (the lock
    holds no entry yet: docs/upstream.md, "The lock"). The check itself catches an entry
    made from the mirror, beside one from a real render."""
    assert mirror_made(read_lock(LOCK_FILE)) == []
    cls, _ = demo
    demo_install(cls, source(tmp_path))
    assert main(lock_args(tmp_path)) == 0
    lock = copy.deepcopy(read_lock(tmp_path / "lock.yaml"))  # not the cached one
    lock["demo"]["v2"] = {"base": {**lock["demo"]["v1"]["base"], "rendered_by": "manifest mirror"}}
    assert mirror_made(lock) == ["demo v2 base"]


DAMAGE = {
    "not a mapping": ("- demo\n", "not a mapping of projects"),
    "not YAML": ("demo: [v1\n", "not YAML"),
    "versions": ("demo: v1\n", "demo: not a mapping of versions"),
    "an entry": ("demo: {v1: {base: sha256:00}}\n", "demo v1 base: not an entry"),
    "a field": ("demo: {v1: {base: {digest: sha256:00}}}\n", "demo v1 base: reference is not"),
    "the digest": (
        "demo: {v1: {base: {reference: {}, digest: md5-00, objects: 8, rendered_by: helm}}}\n",
        "demo v1 base: digest is not a sha256: digest",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=list(DAMAGE))
def test_a_damaged_lock_is_an_error_naming_the_entry_and_the_fix(
    demo: tuple[type[Demo], Path],
    tmp_path: Path,
    damage: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    rendered: list[Reference],
) -> None:
    text, problem = damage
    (tmp_path / "lock.yaml").write_text(text)
    cls, _ = demo
    recorder = Recorder()
    with pytest.raises(ManifestError) as error:
        demo_install(cls, source(tmp_path), recorder=recorder)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'lock.yaml'}: not a lock of renders: ")
    assert problem in message and "fix: restore the file from version control" in message
    assert "record those parts again with make lock" in message
    assert kube_objects(recorder) == [] and rendered == []  # before anything is rendered
    assert main(lock_args(tmp_path)) == 2  # the lock command says the same, and writes nothing
    assert problem in capsys.readouterr().err
    assert (tmp_path / "lock.yaml").read_text() == text


@pytest.fixture
def demo(render_tools: Path, tmp_path: Path) -> tuple[type[Demo], Path]:
    """The synthetic component on a local git repository (tag v1), and that repository."""
    repo = tmp_path / "repo"
    return with_parts(ManifestPart("base", git_repository(repo), "kustomize", "")), repo


def lock_args(tmp_path: Path, cache: str = "renders") -> list[str]:
    return ["--lock", str(tmp_path / "lock.yaml"), "--cache", str(tmp_path / cache)]


def source(tmp_path: Path, cache: str = "renders") -> UpstreamSource:
    return UpstreamSource(lock_file=tmp_path / "lock.yaml", cache=tmp_path / cache)


def test_a_part_without_a_digest_installs_and_is_reported_as_new(
    demo: tuple[type[Demo], Path], tmp_path: Path
) -> None:
    cls, _ = demo
    with pulumi_warnings() as warnings:
        recorder = demo_install(cls, source(tmp_path))
    assert len(kube_objects(recorder)) == len(OBJECTS) + 1
    (note,) = [w for w in warnings if "records no digest" in w]
    assert note.startswith("demo v1, part base: new, file://") and "make lock" in note


def test_the_lock_command_records_what_a_preview_rendered(
    demo: tuple[type[Demo], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cls, _ = demo
    demo_install(cls, source(tmp_path))
    assert main(lock_args(tmp_path)) == 0
    assert "demo v1 base: new, 8 objects (sha256:" in capsys.readouterr().out
    entry = read_lock(tmp_path / "lock.yaml")["demo"]["v1"]["base"]
    assert entry["objects"] == 8 and entry["rendered_by"].startswith("kustomize v")
    assert entry["reference"]["location"].startswith("file://")
    assert main([*lock_args(tmp_path), "--check"]) == 0
    assert "demo v1 base: unchanged" in capsys.readouterr().out
    with pulumi_warnings() as warnings:
        demo_install(cls, source(tmp_path))
    assert not [w for w in warnings if "records no digest" in w]


def test_a_moved_tag_is_an_error_naming_the_part_and_the_fix(
    demo: tuple[type[Demo], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cls, repo = demo
    demo_install(cls, source(tmp_path))
    assert main(lock_args(tmp_path)) == 0
    # upstream moves the tag to a commit with one object more
    extra = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "namespace": "demo"},
    }
    write_yaml(repo / "manifests" / "objects.yaml", [CRD, *OBJECTS, extra])
    git(repo, "commit", "-q", "-am", "moved")
    git(repo, "tag", "-f", "v1")
    with pytest.raises(ManifestError) as error:  # a machine without the old render
        demo_install(cls, source(tmp_path, cache="fresh"))
    message = str(error.value)
    assert message.startswith("demo v1, part base: file://")
    assert "renders 9 objects" in message and "records 8 objects" in message
    assert "fix: review the render" in message and "make lock" in message
    capsys.readouterr()
    assert main([*lock_args(tmp_path, cache="fresh"), "--check"]) == 1
    assert "demo v1 base: changed, 8 -> 9 objects" in capsys.readouterr().out
    assert main(lock_args(tmp_path, cache="fresh")) == 0  # reviewed: record it
    assert len(kube_objects(demo_install(cls, source(tmp_path, cache="fresh")))) == 9
    # the machine that still has the old render cached is told how to drop it
    with pytest.raises(ManifestError, match="rm -r "):
        demo_install(cls, source(tmp_path))


def test_a_lock_of_another_reference_is_an_error(
    demo: tuple[type[Demo], Path], tmp_path: Path
) -> None:
    cls, _ = demo
    demo_install(cls, source(tmp_path))
    assert main(lock_args(tmp_path)) == 0
    lock = copy.deepcopy(read_lock(tmp_path / "lock.yaml"))
    lock["demo"]["v1"]["base"]["reference"]["location"] = "https://example.com/other?ref=v1"
    write_lock(tmp_path / "lock.yaml", lock)
    with pytest.raises(ManifestError, match=r"records .*other.* for this part; fix:"):
        demo_install(cls, source(tmp_path))


def test_the_lock_command_locks_every_part_a_stack_installs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Here the pinned references render from the mirror (the unit tests' renderer)."""
    assert main(["--stack", "prod", *lock_args(tmp_path), "--check"]) == 1
    assert "kfp 2.16.1 cluster-scoped: new" in capsys.readouterr().out
    assert main(["--stack", "prod", *lock_args(tmp_path)]) == 0
    lock = read_lock(tmp_path / "lock.yaml")
    assert set(lock["kfp"]["2.16.1"]) == {"cluster-scoped", "platform-agnostic"}
    assert set(lock["model-registry"]["v0.3.7"]) == {"postgres"}  # prod's database
    assert set(lock["kserve"]["v0.18.0"]) == {"kserve", "kserve-cluster-resources"}
    assert len(lock) == 9
    assert main(["--stack", "prod", *lock_args(tmp_path), "--check"]) == 0


def test_the_lock_command_locks_the_versions_of_a_component_with_its_settings(
    tmp_path: Path,
) -> None:
    args = lock_args(tmp_path)
    assert main(["--component", "training-operator", "--setting", "mode=trainer", *args]) == 0
    assert set(read_lock(tmp_path / "lock.yaml")) == {"trainer"}
    assert set(read_lock(tmp_path / "lock.yaml")["trainer"]) == {"v2.1.0", "v2.2.0"}
    assert main(["--component", "model-registry", "--setting", "database=postgres", *args]) == 0
    assert set(read_lock(tmp_path / "lock.yaml")["model-registry"]["v0.3.7"]) == {"postgres"}


def test_the_lock_command_reports_what_it_cannot_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mirror holds no render of chart 2.4.0; nothing is recorded for it."""
    args = ["--component", "spark-operator", "--version", "v2.4.0", *lock_args(tmp_path)]
    assert main(args) == 2
    assert "spark-operator v2.4.0 controller: cannot render" in capsys.readouterr().out
    assert not (tmp_path / "lock.yaml").exists()
    assert main(["--stack", "no-such-stack", *lock_args(tmp_path)]) == 2
