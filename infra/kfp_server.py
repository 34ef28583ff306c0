"""A real Kubeflow Pipelines API server on this machine, beside the local control plane.

Three processes, each described as data (``ProcessSpec``: argv, env, ports, readiness,
stop signals) so that this module's runner or another process supervisor (kwokctl's extra
components) can run them:

- MariaDB from Debian (``mariadbd``), its data in ``<state_dir>/mysql``;
- an S3 object store (SeaweedFS's ``weed``), its data in ``<state_dir>/s3``;
- KFP's own API server, 2.15.0 (built by ``scripts/kfp-tools.sh`` from the upstream source
  snapshot) whatever KFP version the stack installs in the cluster. It reaches the local
  kube-apiserver through a kubeconfig: a run becomes a real Argo ``Workflow`` there.

Everything runs inside the loopback-only network namespace (``scripts/netns.sh``): the API
server listens on every address of its namespace, and there that is only loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from infra.local_cluster import check_loopback_only
from infra.process_runner import (
    ProcessSpec,
    Readiness,
    alive,
    free_ports,
    spawn,
    terminate,
    wait_ready,
)

TOOLS_SCRIPT = "scripts/kfp-tools.sh"
#: Marks a folder as this module's state, so stop() never deletes anything else.
STATE_MARKER = ".kubeflow-kfp-server"
BUCKET = "mlpipeline"
DB_USER = "kfp"
#: The S3 store asks for no credentials; the API server signs with these anyway.
S3_ACCESS_KEY = "kfp-local"
S3_SECRET_KEY = "kfp-local-not-a-secret"
#: Debian puts the MariaDB server in /usr/sbin, which is not on every PATH.
DB_PATH = f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin"
_DB_INIT_SQL = Path(__file__).with_name("kfp_server_db.sql")
#: SeaweedFS listens on these (each server's gRPC port too: the default, +10000, may not exist).
WEED_PORT_FLAGS = {
    "s3": "s3.port",
    "s3_grpc": "s3.port.grpc",
    "weed_master": "master.port",
    "weed_master_grpc": "master.port.grpc",
    "weed_volume": "volume.port",
    "weed_volume_grpc": "volume.port.grpc",
    "weed_filer": "filer.port",
    "weed_filer_grpc": "filer.port.grpc",
}
PORT_NAMES = ("mysql", *WEED_PORT_FLAGS, "http", "rpc", "visualization")


class KfpServerError(RuntimeError):
    """A process could not start or stop; the message names it, its log and the fix."""


@dataclass(frozen=True)
class ServerConfig:
    """Where everything lives and which ports it uses (kept in state_dir/server.json)."""

    state_dir: Path
    bin_dir: Path
    kubeconfig: Path
    namespace: str
    db_bin_dir: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        """The KFP REST API (what ``kfp.Client(host=...)`` takes)."""
        return f"http://127.0.0.1:{self.ports['http']}"

    def to_json(self) -> str:
        """Serialize for state_dir/server.json."""
        return json.dumps(
            {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        )

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        """Inverse of to_json()."""
        data = json.loads(text)
        return cls(
            Path(data["state_dir"]),
            Path(data["bin_dir"]),
            Path(data["kubeconfig"]),
            data["namespace"],
            Path(data["db_bin_dir"]),
            {k: int(v) for k, v in data["ports"].items()},
        )


def process_specs(cfg: ServerConfig, db_password: str) -> list[ProcessSpec]:
    """The three processes in start order (each needs the ones before it)."""
    state, ports = cfg.state_dir, cfg.ports
    mysql = ProcessSpec(
        "mariadb",
        (
            str(cfg.db_bin_dir / "mariadbd"),
            "--no-defaults",
            f"--datadir={state / 'mysql'}",
            f"--socket={state / 'run' / 'mysqld.sock'}",
            f"--pid-file={state / 'run' / 'mysqld.pid'}",
            f"--port={ports['mysql']}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            f"--init-file={state / 'db-init.sql'}",
            *(["--user=root"] if os.geteuid() == 0 else []),
        ),
        {},
        {"mysql": ports["mysql"]},
        Readiness(ports["mysql"]),
    )
    weed = [f"-{flag}={ports[name]}" for name, flag in WEED_PORT_FLAGS.items()]
    s3 = ProcessSpec(
        "s3",
        (
            str(cfg.bin_dir / "weed"),
            "server",
            f"-dir={state / 's3'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            *weed,
            # Iceberg and Lance catalogs off; the S3 gateway's socket in the state dir.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.localSocket={state / 'run' / 's3.sock'}",
            "-volume.max=4",
            # No load balancer to drain: stop at once (default: 10 s of waiting first).
            "-volume.preStopSeconds=0",
        ),
        {},
        {"s3": ports["s3"]},
        Readiness(ports["s3"], "/healthz"),
        # Its filer and volume server stop on SIGTERM; its master never does.
        stop_grace=5.0,
    )
    kfp = ProcessSpec(
        "kfp-apiserver",
        (
            str(cfg.bin_dir / "kfp-apiserver"),
            f"-config={cfg.bin_dir.parent / 'config'}",
            # The REST gateway dials localhost + this flag: it must be a bare :PORT.
            f"-rpcPortFlag=:{ports['rpc']}",
            f"-httpPortFlag=:{ports['http']}",
            "-logtostderr=true",
        ),
        {
            "KUBECONFIG": str(cfg.kubeconfig),
            "POD_NAMESPACE": cfg.namespace,
            "DBCONFIG_MYSQLCONFIG_HOST": "127.0.0.1",
            "DBCONFIG_MYSQLCONFIG_PORT": str(ports["mysql"]),
            "DBCONFIG_MYSQLCONFIG_USER": DB_USER,
            "DBCONFIG_MYSQLCONFIG_PASSWORD": db_password,
            "OBJECTSTORECONFIG_HOST": "127.0.0.1",
            "OBJECTSTORECONFIG_PORT": str(ports["s3"]),
            "OBJECTSTORECONFIG_SECURE": "false",
            "OBJECTSTORECONFIG_REGION": "us-east-1",
            "OBJECTSTORECONFIG_BUCKETNAME": BUCKET,
            "OBJECTSTORECONFIG_ACCESSKEY": S3_ACCESS_KEY,
            "OBJECTSTORECONFIG_SECRETACCESSKEY": S3_SECRET_KEY,
            # Required at start-up; nothing serves visualizations here.
            "ML_PIPELINE_VISUALIZATIONSERVER_SERVICE_HOST": "127.0.0.1",
            "ML_PIPELINE_VISUALIZATIONSERVER_SERVICE_PORT": str(ports["visualization"]),
            "INITCONNECTIONTIMEOUT": "30s",
        },
        {"http": ports["http"], "rpc": ports["rpc"]},
        Readiness(ports["http"], "/apis/v2beta1/healthz"),
        (signal.SIGTERM, signal.SIGTERM),
    )
    return [mysql, s3, kfp]


def find_mariadb() -> Path:
    """The folder of mariadbd, or an error naming the fix."""
    found = shutil.which("mariadbd", path=DB_PATH)
    install_db = shutil.which("mariadb-install-db", path=DB_PATH)
    if found is None or install_db is None:
        raise KfpServerError(
            "MariaDB (mariadbd, mariadb-install-db), the KFP API server's database, is not "
            f"installed; fix: run `make setup` ({TOOLS_SCRIPT} installs mariadb-server from "
            "Debian), or apt-get install mariadb-server"
        )
    return Path(found).parent


def check_binaries(bin_dir: Path) -> None:
    """Fail with the fix when scripts/kfp-tools.sh has not built the servers."""
    missing = [b for b in ("kfp-apiserver", "weed") if not os.access(bin_dir / b, os.X_OK)]
    if missing or not (bin_dir.parent / "config" / "config.json").is_file():
        raise KfpServerError(
            f"the KFP API server tools are not built in {bin_dir} (missing: "
            f"{', '.join(missing) or 'config/config.json'}); fix: run `make setup` "
            f"(or {TOOLS_SCRIPT}) and pass the bin dir it prints"
        )


# --------------------------------------------------------------------------------------
# start / stop
# --------------------------------------------------------------------------------------


def load_config(state_dir: Path) -> ServerConfig | None:
    """The config of the server in state_dir, if there is one."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        return ServerConfig.from_json((Path(state_dir) / "server.json").read_text())
    return None


def _db_password(state_dir: Path) -> str:
    return (state_dir / "db-password").read_text().strip()


def _prepare(cfg: ServerConfig) -> None:
    """A fresh state dir: marker, config, a database with the API server's user."""
    state = cfg.state_dir
    for sub in ("run", "logs", "s3"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / STATE_MARKER).write_text("state of a local KFP API server\n")
    (state / "server.json").write_text(cfg.to_json())
    password = secrets.token_urlsafe(24)
    for name, text in (
        ("db-password", password),
        ("db-init.sql", _DB_INIT_SQL.read_text().format(user=DB_USER, password=password)),
    ):
        (state / name).touch(mode=0o600)
        (state / name).write_text(text)
    install = [
        shutil.which("mariadb-install-db", path=DB_PATH) or "mariadb-install-db",
        "--no-defaults",
        f"--datadir={state / 'mysql'}",
        "--auth-root-authentication-method=socket",
        "--skip-test-db",
        *(["--user=root"] if os.geteuid() == 0 else []),
    ]
    done = subprocess.run(install, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise KfpServerError(
            f"mariadb-install-db failed in {state / 'mysql'}:\n{done.stdout}\n{done.stderr}"
        )


def start(
    state_dir: Path,
    bin_dir: Path,
    kubeconfig: Path,
    *,
    namespace: str = "kubeflow",
    http_port: int | None = None,
    timeout: float = 180.0,
) -> ServerConfig:
    """Start MariaDB, the S3 store and the KFP API server; return once the API serves.

    Idempotent: a server already running in state_dir is returned as it is; if some of its
    processes died (a reboot), they are started again on the same data and ports. A server
    made with other settings is stopped and removed first. Must run inside the netns.
    """
    check_loopback_only()
    state_dir, bin_dir = Path(state_dir).resolve(), Path(bin_dir).resolve()
    check_binaries(bin_dir)
    kubeconfig = Path(kubeconfig).resolve()
    cfg = load_config(state_dir)
    same = (bin_dir, kubeconfig, namespace, http_port or (cfg.ports["http"] if cfg else None))
    if cfg is None or (cfg.bin_dir, cfg.kubeconfig, cfg.namespace, cfg.ports["http"]) != same:
        stop(state_dir)
        ports = free_ports(PORT_NAMES)
        if http_port is not None:
            ports["http"] = check_free_port(http_port)
        cfg = ServerConfig(state_dir, bin_dir, kubeconfig, namespace, find_mariadb(), ports)
        _prepare(cfg)
    deadline = time.monotonic() + timeout
    try:
        for spec in process_specs(cfg, _db_password(state_dir)):
            if alive(state_dir, spec.name) is None:
                spawn(spec, state_dir)
            wait_ready(spec, state_dir, deadline)
    except BaseException:
        _stop_processes(state_dir)
        raise
    return cfg


def check_free_port(port: int) -> int:
    """`port` if nothing listens on it at 127.0.0.1, else a KfpServerError. Connections of a
    server stopped less than a minute ago (TIME_WAIT, as after `make destroy`) do not count:
    the API server binds its port with SO_REUSEADDR, and so does this check."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as err:
            raise KfpServerError(
                f"the KFP API port 127.0.0.1:{port} is taken ({err}); fix: stop what listens "
                "there, or choose another port in the API URL setting"
            ) from None
    return port


def _stop_processes(state_dir: Path) -> list[str]:
    """Stop every process, dependents first; the names of those still alive after."""
    cfg = load_config(state_dir)
    if cfg is None:
        return []
    specs = process_specs(cfg, "")
    return [s.name for s in reversed(specs) if not terminate(state_dir, s)]


def stop(state_dir: Path) -> None:
    """Stop the processes of the server in state_dir and remove its state.

    A missing state_dir is fine; a folder without the marker is left alone.
    """
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return
    if not (state_dir / STATE_MARKER).exists():
        if any(state_dir.iterdir()):
            raise KfpServerError(f"{state_dir} is not a KFP server state dir; not deleting it")
        state_dir.rmdir()
        return
    left = _stop_processes(state_dir)
    if left:
        raise KfpServerError(f"could not stop {', '.join(left)} of the KFP server in {state_dir}")
    shutil.rmtree(state_dir)


def is_running(state_dir: Path) -> bool:
    """Whether every process of the server in state_dir runs."""
    cfg = load_config(state_dir)
    return cfg is not None and all(alive(cfg.state_dir, s.name) for s in process_specs(cfg, ""))
