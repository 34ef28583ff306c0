"""infra/kfp_server.py's process specs (data), and infra/process_runner.py running a real
(tiny) process: readiness, a process that dies, stop signals. The real MariaDB, S3 store and
KFP API server run in tests/integration (conftest.py)."""

from __future__ import annotations

import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from infra import kfp_server
from infra.kfp_server import ServerConfig, process_specs
from infra.process_runner import (
    EPHEMERAL_PORTS,
    ProcessError,
    ProcessSpec,
    Readiness,
    alive,
    free_ports,
    server_ports,
    spawn,
    terminate,
    wait_ready,
)


def config(tmp_path: Path) -> ServerConfig:
    return ServerConfig(
        tmp_path / "state",
        tmp_path / "tools" / "bin",
        tmp_path / "kubeconfig",
        "kubeflow",
        Path("/usr/sbin"),
        free_ports(kfp_server.PORT_NAMES),
    )


def test_specs_start_the_database_and_the_store_before_the_api_server(tmp_path: Path) -> None:
    specs = process_specs(config(tmp_path), "pw")

    assert [s.name for s in specs] == ["mariadb", "s3", "kfp-apiserver"]


def test_the_api_server_spec_follows_what_the_server_needs(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    [_, _, api] = process_specs(cfg, "pw")

    # The REST gateway dials localhost + the rpc flag: it must be a bare :PORT.
    assert f"-rpcPortFlag=:{cfg.ports['rpc']}" in api.argv
    assert f"-httpPortFlag=:{cfg.ports['http']}" in api.argv
    assert api.env["KUBECONFIG"] == str(cfg.kubeconfig)
    assert api.env["DBCONFIG_MYSQLCONFIG_PORT"] == str(cfg.ports["mysql"])
    assert api.env["DBCONFIG_MYSQLCONFIG_PASSWORD"] == "pw"
    assert api.env["OBJECTSTORECONFIG_PORT"] == str(cfg.ports["s3"])
    assert "ML_PIPELINE_VISUALIZATIONSERVER_SERVICE_HOST" in api.env
    assert api.readiness == Readiness(cfg.ports["http"], "/apis/v2beta1/healthz")
    assert api.stop_signals == (signal.SIGTERM, signal.SIGTERM)
    assert cfg.api_url == f"http://127.0.0.1:{cfg.ports['http']}"


def test_every_port_is_distinct_and_given_to_the_store(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    [db, s3, _] = process_specs(cfg, "pw")

    assert len(set(cfg.ports.values())) == len(kfp_server.PORT_NAMES)
    assert f"--port={cfg.ports['mysql']}" in db.argv and "--bind-address=127.0.0.1" in db.argv
    for name, flag in kfp_server.WEED_PORT_FLAGS.items():
        assert f"-{flag}={cfg.ports[name]}" in s3.argv


def test_free_ports_are_free_and_below_the_ephemeral_range() -> None:
    """Outgoing connections (a cluster starting beside the server opens hundreds) take their
    ports from the kernel's ephemeral range: a server's port comes from below it."""
    ports = free_ports(kfp_server.PORT_NAMES)
    assert len(set(ports.values())) == len(kfp_server.PORT_NAMES)
    assert all(port in server_ports() for port in ports.values())
    assert max(server_ports()) < int(EPHEMERAL_PORTS.read_text().split()[0])
    for port in ports.values():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free when handed out


def test_server_ports_follow_the_kernels_ephemeral_range(tmp_path: Path) -> None:
    ephemeral = tmp_path / "ip_local_port_range"
    ephemeral.write_text("40000\t60999\n")
    assert server_ports(ephemeral) == range(10000, 40000)
    assert server_ports(tmp_path / "missing") == range(10000, 32768)  # Linux's default


def test_too_few_candidates_leave_the_choice_to_the_kernel() -> None:
    ports = free_ports(("a", "b"), candidates=range(10000, 10010))
    assert len(set(ports.values())) == 2
    assert all(port not in range(10000, 10010) for port in ports.values())


def test_a_port_is_free_once_its_last_server_stopped_and_not_while_one_listens() -> None:
    """`make up` right after `make destroy`: the old server's connections linger a minute."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(kfp_server.KfpServerError, match=f"127.0.0.1:{port} is taken.*fix:"):
            kfp_server.check_free_port(port)
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server's side closes first: its end waits (TIME_WAIT)
        client.close()
    assert kfp_server.check_free_port(port) == port


def test_config_round_trips_through_its_json(tmp_path: Path) -> None:
    cfg = config(tmp_path)

    assert ServerConfig.from_json(cfg.to_json()) == cfg


def test_missing_tools_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(kfp_server.KfpServerError, match=r"kfp-apiserver, weed.*make setup"):
        kfp_server.check_binaries(tmp_path / "bin")


def test_stop_leaves_a_folder_that_is_not_its_state_alone(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")

    with pytest.raises(kfp_server.KfpServerError, match="not a KFP server state dir"):
        kfp_server.stop(tmp_path)

    assert (tmp_path / "precious.txt").read_text() == "keep me"


# --- the runner, with a real process ----------------------------------------------------


def http_server(port: int, name: str = "web") -> ProcessSpec:
    argv = (sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port))
    return ProcessSpec(name, argv, {}, {"http": port}, Readiness(port, "/"))


def test_a_spawned_process_is_ready_then_stopped(tmp_path: Path) -> None:
    (port,) = free_ports(("http",)).values()
    spec = http_server(port)
    (tmp_path / "run").mkdir()

    spawn(spec, tmp_path)
    wait_ready(spec, tmp_path, time.monotonic() + 20)
    pid = alive(tmp_path, "web")

    assert pid is not None
    assert terminate(tmp_path, spec) is True
    assert alive(tmp_path, "web") is None


def test_a_process_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    (port,) = free_ports(("http",)).values()
    argv = (sys.executable, "-c", "import sys; print('no database here'); sys.exit(3)")
    spec = ProcessSpec("broken", argv, {}, {}, Readiness(port))
    (tmp_path / "run").mkdir()

    spawn(spec, tmp_path)
    with pytest.raises(ProcessError) as raised:
        wait_ready(spec, tmp_path, time.monotonic() + 20)

    message = str(raised.value)
    assert "broken exited before it served" in message and "no database here" in message
    assert str(tmp_path / "logs" / "broken.log") in message


def test_every_stop_signal_is_sent_before_sigkill(tmp_path: Path) -> None:
    # Ignores the first SIGTERM (like the KFP server), exits on the second.
    code = (
        "import signal, sys, time\n"
        "seen = []\n"
        "def on_term(*_):\n"
        "    seen.append(1)\n"
        "    if len(seen) == 2: print('second SIGTERM', flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "print('up', flush=True)\n"
        "while True: time.sleep(0.05)\n"
    )
    spec = ProcessSpec(
        "stubborn", (sys.executable, "-c", code), {}, {}, Readiness(1), (signal.SIGTERM,) * 2, 0.3
    )
    (tmp_path / "run").mkdir()
    spawn(spec, tmp_path)
    log = tmp_path / "logs" / "stubborn.log"
    deadline = time.monotonic() + 20
    while "up" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)

    started = time.monotonic()
    assert terminate(tmp_path, spec) is True
    assert "second SIGTERM" in log.read_text()
    assert time.monotonic() - started < 1.9  # the spec's 0.3 s, not the 2 s default


# --- the local stack runs it --------------------------------------------------------------


def test_the_local_stack_serves_its_example_pipelines_api_itself(
    tmp_path: Path, kube_bin: Path
) -> None:
    from tests.unit.mocks import run_stack

    recorder = run_stack("local", {"kubeflow:localClusterDir": str(tmp_path / "cluster")})

    [server] = recorder.of_type("pulumi-python:dynamic/kubeflow:LocalKfpServer")
    assert server.inputs["http_port"] == 8888  # stacks/Pulumi.local.yaml's apiUrl
    assert server.inputs["state_dir"] == str(tmp_path / "cluster-kfp-server")
    assert server.inputs["namespace"] == "kubeflow"
    # The cluster's kubeconfig (its admin credentials) goes to the state only as a secret.
    assert server.inputs["kubeconfig"][rpc._special_sig_key] == rpc._special_secret_sig
    pipelines = recorder.of_type("pulumi-python:dynamic/kfp:Pipeline")
    assert sorted(p.name for p in pipelines) == ["kfp-pipeline-hello", "kfp-pipeline-iris"]
    assert all(server.urn in p.dependencies for p in pipelines)


def test_a_local_api_url_off_loopback_stops_before_anything_is_registered(
    tmp_path: Path, kube_bin: Path
) -> None:
    from infra.config import ConfigError
    from tests.unit.mocks import Recorder, run_stack

    recorder = Recorder()
    overrides = {
        "kubeflow:localClusterDir": str(tmp_path / "cluster"),
        "kubeflow:examplePipelines": {"apiUrl": "http://kfp.example:8888"},
    }
    with pytest.raises(ConfigError, match=r"examplePipelines.apiUrl.*http://127.0.0.1:PORT"):
        run_stack("local", overrides, recorder)

    assert recorder.registered == []


def test_the_server_resource_restarts_a_dead_server_and_replaces_a_changed_one(
    tmp_path: Path,
) -> None:
    from infra.kfp_server_resource import LocalKfpServerProvider

    provider = LocalKfpServerProvider()
    props = {"state_dir": str(tmp_path / "kfp"), "bin_dir": "/b", "namespace": "kubeflow"}
    moved = {**props, "namespace": "ml"}

    assert provider.read("id", props).id == ""  # no state: gone, a later up creates it
    dead = provider.diff("id", props, props)
    assert dead.changes is True and not dead.replaces  # an update starts it on its data
    assert provider.diff("id", props, moved).replaces == ["namespace"]
