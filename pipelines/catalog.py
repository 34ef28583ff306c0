"""The example pipelines by short name, and how to compile them.

The CLI, the local runner and the deployment all look pipelines up here, so adding an
example is one entry. Importing this module does not import the kfp SDK (the stack's
settings check example names with it): a pipeline is imported when it is first used.
"""

import importlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfp.dsl.base_component import BaseComponent


@dataclass(frozen=True)
class Example:
    """One example pipeline: where its function is and the file it compiles to."""

    key: str
    module: str
    function: str
    file_name: str

    @property
    def pipeline(self) -> "BaseComponent":
        """The ``@dsl.pipeline`` function (imports the kfp SDK)."""
        pipeline: BaseComponent = getattr(importlib.import_module(self.module), self.function)
        return pipeline

    @property
    def pipeline_name(self) -> str:
        """The name KFP shows (the ``@dsl.pipeline`` name)."""
        return str(self.pipeline.name)


EXAMPLES: dict[str, Example] = {
    "hello": Example("hello", "pipelines.hello", "hello_pipeline", "hello_pipeline.yaml"),
    "iris": Example("iris", "pipelines.iris", "iris_pipeline", "iris_pipeline.yaml"),
}


def get_example(key: str) -> Example:
    """Look an example up by key, with an error that lists the known ones."""
    try:
        return EXAMPLES[key]
    except KeyError:
        known = ", ".join(sorted(EXAMPLES))
        raise ValueError(f"unknown example pipeline {key!r}: choose one of {known}") from None


def compile_example(example: Example, out_dir: Path) -> Path:
    """Compile one example to ``out_dir/<file_name>`` (IR YAML) and return the path."""
    from kfp import compiler

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / example.file_name
    compiler.Compiler().compile(pipeline_func=example.pipeline, package_path=str(path))
    return path


def compile_all(out_dir: Path) -> list[Path]:
    """Compile every example into ``out_dir``."""
    return [compile_example(example, out_dir) for example in EXAMPLES.values()]


def compiled_text(example: Example) -> str:
    """The compiled IR YAML of one example, as text (what the deployment uploads)."""
    with tempfile.TemporaryDirectory(prefix="kfp-compile-") as tmp:
        return compile_example(example, Path(tmp)).read_text(encoding="utf-8")
