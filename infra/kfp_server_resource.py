"""The local KFP API server as a Pulumi resource: kfp_server.start() on create, stop() on
delete, so the `local` stack's `up` starts it beside the control plane and `destroy` stops it.

``LocalKfpServer(name, LocalKfpServerArgs(...))`` is a dynamic resource; its ``api_url``
output is what the example pipelines are uploaded to. The kubeconfig input (the local
cluster's, a secret) is written into the server's state folder (mode 600) for the server.
The provider's methods import infra.kfp_server at run time, so the class pickles by
reference and loads in the engine's provider host.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi.dynamic

from infra.config import ConfigError

_INPUTS = ("state_dir", "bin_dir", "namespace", "http_port", "kubeconfig")


def kfp_bin_dir() -> Path:
    """Where scripts/kfp-tools.sh puts the KFP API server and weed (its default layout)."""
    tools = os.environ.get("KUBEFLOW_TOOLS_DIR") or str(Path.home() / ".cache" / "kubeflow-pulumi")
    return Path(os.environ.get("KUBEFLOW_KFP_BIN_DIR") or Path(tools) / "kfp-2.15.0" / "bin")


def _outs(props: dict[str, Any], api_url: str, running: bool) -> dict[str, Any]:
    return {**{k: props.get(k) for k in _INPUTS}, "api_url": api_url, "running": running}


def _start(props: dict[str, Any]) -> dict[str, Any]:
    from infra.kfp_server import start

    state_dir = Path(props["state_dir"])
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig = state_dir.parent / f".{state_dir.name}.kubeconfig"
    kubeconfig.touch(mode=0o600)
    kubeconfig.write_text(props["kubeconfig"])
    cfg = start(
        state_dir,
        Path(props["bin_dir"]),
        kubeconfig,
        namespace=props["namespace"],
        http_port=int(props["http_port"]),
    )
    return _outs(props, cfg.api_url, True)


class LocalKfpServerProvider(pulumi.dynamic.ResourceProvider):
    """Starts, reads and stops a local KFP API server (see infra/kfp_server.py)."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Start MariaDB, the S3 store and the API server; return once the API serves."""
        state_dir = Path(props["state_dir"])
        digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
        return pulumi.dynamic.CreateResult(f"kfp-server-{digest}", _start(props))

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Start what died (after a reboot), on the same data: the pipelines stay."""
        return pulumi.dynamic.UpdateResult(_start(news))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Whether the processes still run; a server whose state is gone is dropped."""
        from infra.kfp_server import is_running, load_config

        cfg = load_config(Path(props.get("state_dir") or "/nonexistent"))
        if cfg is None:
            return pulumi.dynamic.ReadResult("", {})
        return pulumi.dynamic.ReadResult(id_, _outs(props, cfg.api_url, is_running(cfg.state_dir)))

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Replace when an input changed; update (restart) when a process died (checked live)."""
        from infra.kfp_server import is_running

        replaces = [k for k in _INPUTS if olds.get(k) != news.get(k)]
        changed = bool(replaces) or not is_running(Path(olds["state_dir"]))
        return pulumi.dynamic.DiffResult(
            changes=changed, replaces=replaces, delete_before_replace=True
        )

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Stop the processes and remove the server's state (and its kubeconfig copy)."""
        from infra.kfp_server import stop

        state_dir = Path(props["state_dir"])
        stop(state_dir)
        (state_dir.parent / f".{state_dir.name}.kubeconfig").unlink(missing_ok=True)


@dataclass
class LocalKfpServerArgs:
    """Inputs of LocalKfpServer; ``kubeconfig`` is the cluster's (YAML text, secret)."""

    state_dir: pulumi.Input[str]
    kubeconfig: pulumi.Input[str]
    http_port: pulumi.Input[int]
    namespace: pulumi.Input[str] = "kubeflow"
    bin_dir: pulumi.Input[str] | None = None


class LocalKfpServer(pulumi.dynamic.Resource, module="kubeflow", name="LocalKfpServer"):
    """The real KFP API server (2.15.0) beside the local cluster (run pulumi in the netns)."""

    api_url: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self, resource_name: str, args: LocalKfpServerArgs, opts: pulumi.ResourceOptions | None
    ) -> None:
        defaults = pulumi.ResourceOptions(
            additional_secret_outputs=["kubeconfig"],
            delete_before_replace=True,
            custom_timeouts=pulumi.CustomTimeouts(create="5m", delete="2m"),
        )
        props = {
            "state_dir": args.state_dir,
            "bin_dir": args.bin_dir or str(kfp_bin_dir()),
            "namespace": args.namespace,
            "http_port": args.http_port,
            "kubeconfig": pulumi.Output.secret(args.kubeconfig),
            "api_url": None,
            "running": None,
        }
        super().__init__(
            LocalKfpServerProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(defaults, opts),
        )


def local_api_port(api_url: str) -> int:
    """The port of ``examplePipelines.apiUrl`` on a local cluster, where the stack serves
    that URL itself; a clear error for any other URL (checked before anything is made)."""
    parts = urlsplit(api_url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        raise ConfigError(
            f"kubeflow:examplePipelines.apiUrl {api_url!r}: on a local cluster the stack runs "
            "the KFP API server itself, on loopback; fix: set it to http://127.0.0.1:PORT "
            "(e.g. http://127.0.0.1:8888)"
        )
    return parts.port


def serve_example_api(
    api_url: str, local_dir: Path, kubeconfig: pulumi.Input[str], namespace: str
) -> LocalKfpServer:
    """The local stack's KFP API server at ``api_url``, its state beside the cluster's."""
    return LocalKfpServer(
        "kfp-api-server",
        LocalKfpServerArgs(
            state_dir=str(local_dir.parent / f"{local_dir.name}-kfp-server"),
            kubeconfig=kubeconfig,
            http_port=local_api_port(api_url),
            namespace=namespace,
        ),
        None,
    )
