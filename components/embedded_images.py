"""Image references `rewrite_images` cannot see, for the `image_registry` setting.

Containers of workloads are moved by `rewrite_images`. Some components also name images in
custom resources (KServe's serving runtimes, Trainer's training runtimes) or in configuration
a ConfigMap holds as JSON or YAML (KServe's agent and storage initializer, Katib's suggestion
services and metrics collectors); their pods would still pull from the public registries.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection
from typing import Any

import yaml

from components.manifests import KubeObject
from components.objects import BUILTIN_GROUPS, api_group
from components.transforms import Transform, rehome_image


def _is_image_key(key: str) -> bool:
    return key == "image" or key.endswith("Image")


def rehome_embedded_images(registry: str, config_maps: Collection[str] = ()) -> Transform:
    """Move every image named under an `image` (or `...Image`) key of a custom resource, and
    of the JSON or YAML mappings in the ConfigMaps named `config_maps`, to `registry`."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: rehome_image(item, registry)
                if _is_image_key(key) and isinstance(item, str) and item and " " not in item
                else walk(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    def config(text: str) -> str:
        """The text with its images moved, reformatted only when an image moved."""
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            try:
                parsed = yaml.safe_load(text)
            except yaml.YAMLError:
                return text  # neither JSON nor YAML (e.g. KServe's commented `_example`)
            walked = walk(parsed)
            return text if walked == parsed else yaml.safe_dump(walked, sort_keys=False)
        walked = walk(parsed)
        return text if walked == parsed else json.dumps(walked, indent=2)

    def apply(obj: KubeObject) -> KubeObject:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] in config_maps:
            obj = copy.deepcopy(obj)
            obj["data"] = {key: config(text) for key, text in (obj.get("data") or {}).items()}
            return obj
        if api_group(obj) in BUILTIN_GROUPS or obj["kind"] == "CustomResourceDefinition":
            return obj
        walked: KubeObject = walk(obj)
        return obj if walked == obj else walked

    return apply
