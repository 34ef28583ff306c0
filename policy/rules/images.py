"""pinned-images: every container image is pinned by a tag that is not a moving name, or by a
digest."""

from __future__ import annotations

from .model import KubeObject, Settings, Violation, catalog, containers, describe

POLICY = "pinned-images"


def image_tag(image: str) -> tuple[str | None, str | None]:
    """(tag, digest) of an image reference `[host[:port]/]path[:tag][@digest]`; either is None
    when absent. The tag is what follows the last ':' after the last '/', so a registry port
    (`host:5000/app`) is never read as a tag."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    _, colon, tag = last.rpartition(":")
    return (tag if colon else None), (digest or None)


def check(obj: KubeObject, settings: Settings) -> list[Violation]:
    """A violation per container whose image is untagged or has a moving tag (no digest)."""
    moving = {str(t).lower() for t in settings["movingTags"]}
    out = []
    for path, container in containers(obj):
        image = str(container["image"])
        tag, digest = image_tag(image)
        if digest:
            continue
        if tag is None:
            problem = "has no tag (pulls latest)"
        elif tag.lower() in moving:
            problem = f"uses the moving tag {tag!r}"
        else:
            continue
        out.append(
            Violation(
                f"{describe(obj)}: {path} ({container.get('name', '?')}) image {image!r} {problem}",
                catalog()[POLICY]["fix"],
            )
        )
    return out
