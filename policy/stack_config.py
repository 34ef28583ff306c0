"""The pack config of one stack, from its stack config (what scripts/preview.sh passes to
`pulumi preview --policy-pack policy --policy-pack-config FILE`).

    pulumi config --json --stack ci | python -m policy.stack_config ci --out FILE

Taken from the stack config (stacks/Pulumi.<stack>.yaml):

- `kubeflow:cluster` -> webhook-failure-policy's clusterMode (Pulumi.yaml's default: existing)
- `policy:kubernetesVersion` -> kubernetes-schema's kubernetesVersion (default 1.34, the local
  cluster's version)
- `policy:enforcement` -> {policy: advisory|mandatory|disabled}, the stack's levels

A bad value is an error naming the key and the fix, before any preview runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy.rules.model import catalog

CLUSTER_MODES = ("local", "kind", "existing", "render")
DEFAULT_CLUSTER_MODE = "existing"
DEFAULT_KUBERNETES_VERSION = "1.34"
LEVELS = ("advisory", "mandatory", "disabled")
_MINOR_VERSION = re.compile(r"^1\.[0-9]+$")


class StackConfigError(ValueError):
    """Stack settings the pack cannot run with; the message names every key and its fix."""


def _value(config: Mapping[str, Any], key: str) -> Any:
    """A value of `pulumi config --json` output: objectValue for objects, else value."""
    entry = config.get(key)
    if entry is None:
        return None
    if entry.get("secret"):
        raise StackConfigError(f"{key} is a secret; fix: set it as plain config")
    return entry["objectValue"] if "objectValue" in entry else entry.get("value")


def pack_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The --policy-pack-config document for a stack's `pulumi config --json` output."""
    errors = []
    mode = _value(config, "kubeflow:cluster") or DEFAULT_CLUSTER_MODE
    if mode not in CLUSTER_MODES:
        errors.append(
            f"kubeflow:cluster = {mode!r} is not a cluster mode; fix: use one of "
            + ", ".join(CLUSTER_MODES)
        )
    version = str(_value(config, "policy:kubernetesVersion") or DEFAULT_KUBERNETES_VERSION)
    if not _MINOR_VERSION.match(version):
        errors.append(
            f"policy:kubernetesVersion = {version!r} is not a Kubernetes minor version; "
            "fix: give major.minor, e.g. 1.34"
        )
    levels = _value(config, "policy:enforcement") or {}
    if not isinstance(levels, Mapping):
        errors.append(
            "policy:enforcement must be an object {policy: level}; fix: e.g. "
            "pulumi config set --path 'policy:enforcement.container-requests' mandatory"
        )
        levels = {}
    for name, level in levels.items():
        if name not in catalog():
            errors.append(
                f"policy:enforcement: {name!r} is not a policy of the pack; fix: use one of "
                + ", ".join(catalog())
            )
        if level not in LEVELS:
            errors.append(
                f"policy:enforcement.{name} = {level!r} is not a level; fix: use one of "
                + ", ".join(LEVELS)
            )
    if errors:
        raise StackConfigError("invalid policy settings:\n  - " + "\n  - ".join(errors))
    out: dict[str, Any] = {
        "webhook-failure-policy": {"clusterMode": mode},
        "kubernetes-schema": {"kubernetesVersion": version},
    }
    for name, level in levels.items():
        out.setdefault(name, {})["enforcementLevel"] = level
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: `pulumi config --json` output on stdin, the pack config to --out (or stdout)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        document = pack_config(json.load(sys.stdin))
    except StackConfigError as error:
        print(f"error: stack {args.stack}: {error}", file=sys.stderr)
        return 2
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
