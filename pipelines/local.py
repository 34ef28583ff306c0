"""Run the example pipelines on this machine with ``kfp.local`` (no cluster, no Docker).

``SubprocessRunner(use_venv=False)`` runs each component in the current interpreter and
first runs the component's own ``pip install`` of its pinned packages *into that
interpreter*. So: the pins must already be installed (checked here, with the fix named),
and pip is forced offline (``PIP_NO_INDEX``) so a local run never downloads anything.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from kfp import local

from pipelines.catalog import Example
from pipelines.pins import IRIS_PACKAGES

LOCAL_PINS = IRIS_PACKAGES


class LocalRunError(RuntimeError):
    """A local run could not start or a task failed."""


def check_local_pins(pins: list[str] | None = None) -> None:
    """Fail early, with the fix, when a pinned package differs from the installed one."""
    for pin in LOCAL_PINS if pins is None else pins:
        package, _, wanted = pin.partition("==")
        try:
            found = metadata.version(package)
        except metadata.PackageNotFoundError:
            found = "not installed"
        if found != wanted:
            raise LocalRunError(
                f"local runs need {pin} in this Python environment (found: {found}); the "
                f"component pins it for the cluster image and kfp.local installs that pin into "
                f"the running interpreter. Fix: pip install '{pin}' (or change "
                f"pipelines/pins.py and the project's dependency together)."
            )


@contextmanager
def _offline_pip() -> Iterator[None]:
    """Make the components' ``pip install`` use installed packages only, never an index."""
    saved = os.environ.get("PIP_NO_INDEX")
    os.environ["PIP_NO_INDEX"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PIP_NO_INDEX", None)
        else:
            os.environ["PIP_NO_INDEX"] = saved


def run_example(
    example: Example, pipeline_root: Path, arguments: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Run one example pipeline locally and return its outputs by name."""
    check_local_pins()
    pipeline_root.mkdir(parents=True, exist_ok=True)
    workspace = pipeline_root / "workspace"
    workspace.mkdir(exist_ok=True)
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(pipeline_root),
        workspace_root=str(workspace),
    )
    with _offline_pip():
        try:
            task = example.pipeline(**dict(arguments or {}))
        except RuntimeError as err:
            raise LocalRunError(f"local run of {example.key!r} failed: {err}") from err
    return dict(task.outputs)
