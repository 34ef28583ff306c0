"""The smallest useful pipeline: one component that greets someone by name."""

from typing import cast

from pipelines._dsl import component, pipeline
from pipelines.pins import BASE_IMAGE


@component(base_image=BASE_IMAGE)
def say_hello(name: str) -> str:
    """Print and return the greeting, so it shows in the logs and as a task output."""
    greeting = f"Hello, {name}!"
    print(greeting)
    return greeting


@pipeline(name="hello-pipeline", description="Prints and returns 'Hello, <name>!'.")
def hello_pipeline(name: str = "World") -> str:
    """Greet ``name``; the greeting is the pipeline's output."""
    # In the DSL the task output is a placeholder that stands for the str at run time.
    return cast(str, say_hello(name=name).output)
