"""Parsed manifests kept as JSON, keyed by the digest of their YAML text.

The full platform's manifests are 13 MB of YAML. libyaml scans them fast, but PyYAML builds
every node in Python: about 8 s on a 2-core machine, in every `preview`, `up` and test.
`json.loads` reads the same objects some 30 times faster, so each text is parsed once and its
objects kept under `$KUBEFLOW_PARSE_CACHE` (default `<tools cache>/parsed/`,
`${KUBEFLOW_TOOLS_DIR:-~/.cache/kubeflow-pulumi}/parsed`).

The key is the text's SHA-256, so a changed file is parsed again and an entry is never
stale. Only what JSON gives back unchanged is kept (YAML can also mean dates, binary or
non-string keys); anything else is parsed every time. The cache is an optimisation only: an
entry that cannot be read or written is parsed (and rewritten) as if it were not there.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

CACHE_ENV = "KUBEFLOW_PARSE_CACHE"
TOOLS_ENV = "KUBEFLOW_TOOLS_DIR"
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (7x faster than the pure-Python one)."""


def tools_cache() -> Path:
    """The project's cache root: $KUBEFLOW_TOOLS_DIR, else ~/.cache/kubeflow-pulumi (where
    the scripts build the tools, too)."""
    return Path(os.environ.get(TOOLS_ENV) or Path.home() / ".cache/kubeflow-pulumi")


def cache_dir() -> Path:
    """$KUBEFLOW_PARSE_CACHE, else the `parsed` folder of the tools cache."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else tools_cache() / "parsed"


def load_all(text: str) -> list[Any]:
    """The non-empty documents of multi-document YAML `text` (yaml.YAMLError when it is not
    valid YAML), from the cache when it holds them."""
    entry = cache_dir() / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    try:
        cached: list[Any] = json.loads(entry.read_bytes())
        return cached
    except (OSError, ValueError):
        pass  # not cached yet, or unreadable: parse it
    docs = [doc for doc in yaml.load_all(text, Loader=_SAFE_LOADER) if doc]
    _store(entry, docs)
    return docs


def _store(entry: Path, docs: list[Any]) -> None:
    """Keep `docs` at `entry` if JSON gives them back unchanged; written to a temporary file
    and renamed, so a reader never sees half an entry."""
    try:
        body = json.dumps(docs, separators=(",", ":"))
    except (TypeError, ValueError):
        return  # a date, binary data or the like: not JSON
    if json.loads(body) != docs:
        return  # e.g. an integer key, which JSON would make a string
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
    except OSError:
        return  # a read-only cache: parsing each time is correct, only slower
    partial = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(body)
        partial.replace(entry)
    except OSError:
        partial.unlink(missing_ok=True)  # a full disk: the same
