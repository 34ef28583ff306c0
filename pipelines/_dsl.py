"""Typed fronts for KFP's untyped ``dsl.component`` / ``dsl.pipeline`` decorators.

KFP ships no type information, so ``mypy --strict`` would treat every decorated function as
untyped; these wrappers state what the decorators return (a KFP component object).
"""

from collections.abc import Callable
from typing import Any

from kfp import dsl
from kfp.dsl.base_component import BaseComponent

Decorator = Callable[[Callable[..., Any]], BaseComponent]


def component(**options: Any) -> Decorator:
    """``@dsl.component(**options)``."""
    decorator: Decorator = dsl.component(**options)
    return decorator


def pipeline(**options: Any) -> Decorator:
    """``@dsl.pipeline(**options)``."""
    decorator: Decorator = dsl.pipeline(**options)
    return decorator
