"""A kind cluster the stack creates on `pulumi up` and deletes on `pulumi destroy`, unless the
stack keeps data (`keepData`, on by default for kind): then the cluster, which holds that
data, stays (`retainOnDelete`), and a new `kindClusterName` makes a new cluster beside it.

This is the seed's `kind create cluster --name=kfp-demo`, as a Pulumi dynamic
resource so the cluster's lifetime is the stack's. Needs `kind` and Docker.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


class KindError(RuntimeError):
    """kind is missing or failed; the message says what to do."""


def run_kind(*args: str) -> str:
    """Run the kind CLI and return its stdout; a clear error when it is missing or fails."""
    kind = shutil.which("kind")
    if kind is None:
        raise KindError(
            "kubeflow:cluster = kind needs the `kind` CLI and a Docker engine; fix: install kind "
            "(https://kind.sigs.k8s.io), or use kubeflow:cluster = local (no Docker needed)"
        )
    done = subprocess.run([kind, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KindError(f"`kind {' '.join(args)}` failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def cluster_exists(name: str) -> bool:
    """Whether kind lists a cluster of that name."""
    return name in run_kind("get", "clusters").split()


class KindClusterProvider(ResourceProvider):
    """Creates, reads and deletes one kind cluster by name."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the cluster (reusing one of that name) and return its kubeconfig."""
        name = props["name"]
        if not cluster_exists(name):
            run_kind("create", "cluster", "--name", name, "--wait", "120s")
        kubeconfig = run_kind("get", "kubeconfig", "--name", name)
        return CreateResult(id_=name, outs={"name": name, "kubeconfig": kubeconfig})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new name is a new cluster."""
        changed = olds.get("name") != news.get("name")
        return DiffResult(changes=changed, replaces=["name"] if changed else [])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: a cluster deleted behind Pulumi's back disappears from state."""
        if not cluster_exists(id_):
            return ReadResult(id_="", outs={})
        return ReadResult(
            id_=id_, outs={**props, "kubeconfig": run_kind("get", "kubeconfig", "--name", id_)}
        )

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Delete the cluster if it still exists."""
        if cluster_exists(id_):
            run_kind("delete", "cluster", "--name", id_)


RESOURCE_NAME = "kind"
"""The Pulumi name of the stack's kind cluster (`infra.kept_objects` finds it by it)."""


class KindCluster(Resource):
    """A kind cluster; `kubeconfig` is a secret output."""

    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, cluster_name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            KindClusterProvider(),
            name,
            {"name": cluster_name, "kubeconfig": None},
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
            ),
        )
