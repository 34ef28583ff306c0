"""What a `pulumi destroy` leaves in the cluster because the stack keeps data.

    pulumi stack export --stack dev | python -m infra.kept_objects

lists every Kubernetes object of the state that is retained on delete (`keepData`), and the
kind or local cluster that holds them where the stack made one, with the command that
removes each once its data is no longer wanted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from infra.kind_cluster import RESOURCE_NAME
from infra.local_cluster_resource import STOP_COMMAND

KIND_CLUSTER = "KindCluster"
"""The kind of the kind cluster's entry (`kept_objects`): no Kubernetes object, the cluster
itself (`infra.kind_cluster`)."""
LOCAL_CLUSTER = "LocalCluster"
"""The kind of the local cluster's entry, named by its state dir (`infra.local_cluster`)."""
LOCAL_CLUSTER_TYPE = "pulumi-python:dynamic/kubeflow:LocalCluster"


def kept_objects(state: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of each Kubernetes object retained on delete, and
    (KIND_CLUSTER, "", name) of a retained kind cluster, (LOCAL_CLUSTER, "", state dir) of
    a retained local one."""
    found = []
    for resource in (state.get("deployment") or {}).get("resources") or []:
        outputs = resource.get("outputs") or resource.get("inputs") or {}
        if not resource.get("retainOnDelete"):
            continue
        if str(resource.get("urn", "")).endswith(
            f"pulumi-python:dynamic:Resource::{RESOURCE_NAME}"
        ):
            found.append((KIND_CLUSTER, "", str(outputs.get("name", ""))))
        elif resource.get("type") == LOCAL_CLUSTER_TYPE:
            found.append((LOCAL_CLUSTER, "", str(outputs.get("state_dir", ""))))
        elif "kind" in outputs:
            metadata = outputs.get("metadata") or {}
            kind, namespace = outputs["kind"], metadata.get("namespace") or ""
            found.append((kind, namespace, metadata.get("name", "")))
    return sorted(found)


def delete_command(kind: str, namespace: str, name: str) -> str:
    """The command that removes one kept entry."""
    if kind == KIND_CLUSTER:
        return f"kind delete cluster --name {name}"
    if kind == LOCAL_CLUSTER:
        return f"{STOP_COMMAND} {name}"
    return f"kubectl delete {kind.lower()} {name}" + (f" -n {namespace}" if namespace else "")


def report(kept: list[tuple[str, str, str]]) -> str:
    """The message destroy prints: what stays, and how to remove it."""
    if not kept:
        return ""
    lines = [
        f"destroy leaves {len(kept)} objects that hold data (keepData):",
        *(f"  {kind} {f'{ns}/' if ns else ''}{name}" for kind, ns, name in kept),
        "to remove them too, once their data is not wanted:",
        *(f"  {delete_command(*entry)}" for entry in kept),
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
