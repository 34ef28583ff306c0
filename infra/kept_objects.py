"""What a `pulumi destroy` leaves in the cluster because the stack keeps data.

    pulumi stack export --stack dev | python -m infra.kept_objects

lists every Kubernetes object of the state that is retained on delete (`keepData`), with
the `kubectl delete` that removes it once its data is no longer wanted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO


def kept_objects(state: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of each Kubernetes object retained on delete."""
    found = []
    for resource in (state.get("deployment") or {}).get("resources") or []:
        outputs = resource.get("outputs") or resource.get("inputs") or {}
        if not resource.get("retainOnDelete") or "kind" not in outputs:
            continue
        metadata = outputs.get("metadata") or {}
        found.append((outputs["kind"], metadata.get("namespace") or "", metadata.get("name", "")))
    return sorted(found)


def report(kept: list[tuple[str, str, str]]) -> str:
    """The message destroy prints: what stays, and how to remove it."""
    if not kept:
        return ""
    lines = [
        f"destroy leaves {len(kept)} objects in the cluster that hold data (keepData):",
        *(f"  {kind} {f'{ns}/' if ns else ''}{name}" for kind, ns, name in kept),
        "to remove them too, once their data is not wanted:",
        *(
            f"  kubectl delete {kind.lower()} {name}" + (f" -n {ns}" if ns else "")
            for kind, ns, name in kept
        ),
        '(or set kubeflow:keepData to "false" and run `pulumi up` before destroying)',
    ]
    return "\n".join(lines)


def main(stream: TextIO = sys.stdin) -> None:
    """Print the report for the state export on `stream`."""
    text = report(kept_objects(json.load(stream)))
    if text:
        print(text)


if __name__ == "__main__":
    main()
