"""kustomize and helm, which render the pinned upstream (scripts/render-tools.sh): tests that
render with them fail, naming the fix, where they are not built; they are never skipped."""

from __future__ import annotations

import os
from pathlib import Path

from components.render import tools_dir

RENDER_TOOLS = ("kustomize", "helm")


class RenderToolsMissingError(RuntimeError):
    """kustomize or helm is not built."""


def require_render_tools(folder: Path | None = None) -> Path:
    """The folder with kustomize and helm (`folder`, else the one `components.render` uses);
    an error naming the fix when either is missing."""
    where = folder or tools_dir()
    missing = [tool for tool in RENDER_TOOLS if not os.access(where / tool, os.X_OK)]
    if missing:
        raise RenderToolsMissingError(
            f"{' and '.join(missing)} not built in {where}; fix: run `make setup` (or "
            "scripts/render-tools.sh, which builds kustomize and helm from Go modules), or set "
            "KUBEFLOW_RENDER_BIN to a folder holding both"
        )
    return where
