"""`kubeflow:manifestMirror`: the folder of rendered manifests a stack installs from instead
of the pinned upstream, and what it must hold for the components' versions."""

from __future__ import annotations

from pathlib import Path

from components.args import ComponentArgs
from components.catalog import CatalogEntry
from components.manifests import ManifestError, ManifestSource, MirrorSource


def mirror_source(setting: str, root: Path, errors: list[str]) -> MirrorSource:
    """The mirror at `root` (the setting's value, resolved); an error when it is no folder."""
    if not root.is_dir():
        errors.append(
            f"kubeflow:manifestMirror = {setting!r}: no such folder ({root}); fix: "
            "point it at a folder laid out <component>/<version>/*.yaml, or unset it to render "
            "the pinned upstream"
        )
    return MirrorSource(root)


def mirror_errors(args: ComponentArgs, entry: CatalogEntry, source: ManifestSource) -> list[str]:
    """What a mirror lacks of the version and parts `args` install (nothing for another
    source): said in the terms of the settings that chose them (release, version)."""
    if not isinstance(source, MirrorSource):
        return []
    folder, version = entry.cls.mirror_folder(args), entry.cls.version_for(args)
    if not (source.root / folder / version).is_dir():
        if args.version is None and args.release is not None:
            return [
                f"kubeflow:release {args.release} installs {folder} {version}, but "
                f"kubeflow:manifestMirror {source.root} has no {folder}/{version}; fix: render "
                f"that version into the mirror, or set kubeflow:{entry.component_id}.version to "
                "a version the mirror holds, or choose another kubeflow:release"
            ]
        known = ", ".join(entry.cls.VERSIONS)
        unknown = (
            ""
            if version in entry.cls.VERSIONS
            else f" (and {version!r} is not a known version: {known})"
        )
        return [
            f"kubeflow:manifestMirror {source.root} has no {folder}/{version}{unknown}; fix: "
            "render that version into the mirror, or set "
            f"kubeflow:{entry.component_id}.version to one it holds"
        ]
    errors = []
    for part in entry.cls.VERSIONS.get(version, ()):
        try:
            source.part_path(folder, version, part)
        except ManifestError as error:
            errors.append(f"kubeflow:manifestMirror: {error}")
    return errors
