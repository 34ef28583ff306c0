"""Unit tests of the local cluster (no cluster, no netns): what kwokctl is told, stages,
delays, extra components, pid files, stop, the Pulumi provider, the setting."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import kept_objects
from infra import local_cluster as lc
from infra import local_cluster_config as lcc
from infra import local_cluster_kwokctl as lcw
from infra import local_cluster_resource as lcr
from infra.config import ClusterSettings, ConfigError
from infra.local_cluster_kwokctl import (
    CLUSTER_NAME,
    Kwokctl,
    KwokctlError,
    ProcessRecord,
    ports_taken,
)
from tests.unit.mocks import run_stack

# --- netns check ----------------------------------------------------------------------


@pytest.mark.parametrize("links", [["eth0", "lo"], ["lo", "veth1"], []])
def test_check_loopback_only_refuses_other_links(links: list[str]) -> None:
    with pytest.raises(lc.NotInLoopbackNetnsError, match=r"scripts/netns\.sh"):
        lc.check_loopback_only(links)
    lc.check_loopback_only(["lo"])


def test_network_links_parses_proc_net_dev(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.write_text(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes\n"
        "    lo:    1234      10    0    0    0     0          0         0     1234\n"
        "  eth0: 999999     100    0    0    0     0          0         0     5555\n"
    )
    assert lc.network_links(dev) == ["eth0", "lo"]


def test_start_refuses_outside_netns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(lc, "network_links", lambda: ["eth0", "lo"])
    with pytest.raises(lc.NotInLoopbackNetnsError, match="loopback-only"):
        lc.start(tmp_path / "state", tmp_path / "bin")
    assert not (tmp_path / "state").exists()


# --- what kwokctl is told -------------------------------------------------------------

STAGE_NAMES = ("node-initialize", "pod-ready", "pod-complete", "pod-delete")


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A bin dir with kwok-stages/ beside it (minimal Stage documents)."""
    stages = tmp_path / "kube" / lcc.STAGES_DIR_NAME
    stages.mkdir(parents=True)
    for name in STAGE_NAMES:
        doc = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage"}
        (stages / f"{name}.yaml").write_text(
            yaml.safe_dump({**doc, "metadata": {"name": name}, "spec": {"next": {}}})
        )
    (tmp_path / "kube" / "bin").mkdir()
    return tmp_path / "kube" / "bin"


def _docs(bin_dir: Path, **kwargs: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    docs = lcc.kwokctl_documents(bin_dir, Path("/w"), **{"api_port": None, **kwargs})
    conf, *stages = docs
    return conf, {s["metadata"]["name"]: s for s in stages}


def test_kwokctl_gets_our_binaries_on_loopback_with_admission_and_rbac(bin_dir: Path) -> None:
    conf, _ = _docs(bin_dir, delay_factor=1.0)
    assert conf["kind"] == "KwokctlConfiguration"
    options = conf["options"]
    assert options["runtime"] == "binary"
    for option, binary in lcc.BINARY_OPTIONS.items():
        assert options[option] == str(bin_dir / binary)
    assert options["bindAddress"] == "127.0.0.1"
    assert options["kubeAdmission"] is True, "webhooks are called only with admission on"
    assert options["kubeAuthorization"] is True
    assert "kubeApiserverPort" not in options
    args = {
        (p["name"], a["key"]): a["value"] for p in conf["componentsPatches"] for a in p["extraArgs"]
    }
    assert not ipaddress.ip_address(args["kube-apiserver", "advertise-address"]).is_loopback
    assert args["kube-apiserver", "watch-cache"] == "false"  # CRD deletes never stall on one
    assert "0.0.0.0" not in yaml.safe_dump(conf)
    fixed, _ = _docs(bin_dir, delay_factor=1.0, api_port=16443)
    assert fixed["options"]["kubeApiserverPort"] == 16443


def test_realistic_delays_scale_with_one_factor(bin_dir: Path) -> None:
    _, real = _docs(bin_dir, delay_factor=1.0)
    assert real["pod-ready"]["spec"]["delay"] == {
        "durationMilliseconds": 2000,
        "jitterDurationMilliseconds": 5000,
    }
    assert real["pod-delete"]["spec"]["delay"] == {
        "durationMilliseconds": 1000,
        "jitterDurationMilliseconds": 3000,
    }
    complete = real["pod-complete"]["spec"]["delay"]
    ready = real["pod-ready"]["spec"]["delay"]
    # A Job's pod completes after pod-ready then pod-complete: about 5 s on average.
    average = sum(ready.values()) / 2 + sum(complete.values()) / 2
    assert 4000 <= average <= 6000
    assert "delay" not in real["node-initialize"]["spec"], "nodes keep kwok's own timing"
    assert real["pod-ready"]["spec"]["next"] == {}, "kwok's own stage, only the delay added"
    _, slow = _docs(bin_dir, delay_factor=5.0)
    assert slow["pod-ready"]["spec"]["delay"]["jitterDurationMilliseconds"] == 25000
    _, none = _docs(bin_dir, delay_factor=0.0)
    assert set(none["pod-delete"]["spec"]["delay"].values()) == {0}


def test_missing_kwok_stages_name_the_fix(bin_dir: Path) -> None:
    (bin_dir.parent / lcc.STAGES_DIR_NAME / "pod-delete.yaml").unlink()
    with pytest.raises(lcc.LocalClusterConfigError, match=r"pod-delete.*kube-tools\.sh"):
        lcc.stages(bin_dir.parent / lcc.STAGES_DIR_NAME, 1.0)


@pytest.mark.parametrize("bad", [-1, 101, float("nan"), "5", True, None])
def test_delay_factor_must_be_a_sane_number(bad: object) -> None:
    with pytest.raises(lcc.LocalClusterConfigError, match=r"kubeflow:localCluster\.delayFactor"):
        lcc.check_delay_factor(bad)
    assert lcc.check_delay_factor(5) == 5.0


def test_the_stack_setting_reports_bad_values_and_unknown_keys() -> None:
    assert lcc.local_cluster_setting({}) == (1.0, [])
    assert lcc.local_cluster_setting({"delayFactor": 5}) == (5.0, [])
    factor, problems = lcc.local_cluster_setting({"delayFactor": -2, "speed": 1})
    assert factor == 1.0
    assert len(problems) == 2
    assert "kubeflow:localCluster.speed is not a setting" in problems[0]
    assert "kubeflow:localCluster.delayFactor = -2" in problems[1]


def test_the_stack_setting_goes_through_load_settings(tmp_path: Path) -> None:
    from infra.config import load_settings

    raw = {"cluster": "local", "localCluster": {"delayFactor": 5}}
    settings = load_settings(raw, stack="t", project_dir=tmp_path)
    assert settings.cluster.local_delay_factor == 5.0
    with pytest.raises(ConfigError, match=r"kubeflow:localCluster\.delayFactor = 'x'"):
        load_settings(
            {**raw, "localCluster": {"delayFactor": "x"}}, stack="t", project_dir=tmp_path
        )


# --- extra components -------------------------------------------------------------------

KFP = lcc.ExtraComponent(
    name="kfp-api", binary="/bin/echo", args=("--port", "8888"), env=(("A", "b"),), ready_port=8888
)


def test_extra_components_are_kwokctl_components_after_the_apiserver(bin_dir: Path) -> None:
    conf, _ = _docs(
        bin_dir, delay_factor=1.0, extras=[KFP], wrappers={"kfp-api": Path("/s/extra-bin/kfp-api")}
    )
    (component,) = conf["components"]
    assert component["name"] == "kfp-api"
    assert component["binary"] == "/s/extra-bin/kfp-api"
    assert component["args"] == ["--port", "8888"]
    assert component["links"] == ["kube-apiserver"]
    assert component["workDir"] == "/w"
    env = {e["name"]: e["value"] for e in component["envs"]}
    assert env == {
        "KUBECONFIG": "/w/kubeconfig.yaml",
        "KUBEFLOW_COMPONENT_DIR": "/w/components/kfp-api",
        "A": "b",
    }


def test_extra_component_wrapper_execs_the_binary_with_its_arguments(tmp_path: Path) -> None:
    wrapper = tmp_path / "kfp-api"
    wrapper.write_text(lcc.extra_wrapper(lcc.ExtraComponent(name="kfp-api", binary="/bin/echo")))
    wrapper.chmod(0o755)
    out = subprocess.run([str(wrapper), "it's", "$HOME"], capture_output=True, text=True)
    assert out.stdout == "it's $HOME\n"


def test_extra_component_props_round_trip() -> None:
    assert lcc.ExtraComponent.from_props(KFP.to_props()) == KFP


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        ([lcc.ExtraComponent(name="KFP", binary="/bin/x")], "must be a DNS label"),
        ([lcc.ExtraComponent(name="etcd", binary="/bin/x")], "must be a DNS label"),
        ([lcc.ExtraComponent(name="kfp", binary="bin/x")], "must be an absolute path"),
        ([KFP, KFP], "share a name"),
        ([lcc.ExtraComponent(name="a", binary="/x", links=("mysql",))], "links to 'mysql'"),
        ([lcc.ExtraComponent(name="a", binary="/x", ready_port=0)], "is no port"),
    ],
)
def test_bad_extra_components_are_refused(extras: list[lcc.ExtraComponent], message: str) -> None:
    with pytest.raises(lcc.LocalClusterConfigError, match=message):
        lcc.check_extra_components(extras)


def test_extra_components_link_to_each_other() -> None:
    db = lcc.ExtraComponent(name="mariadb", binary="/usr/sbin/mariadbd", links=())
    api = lcc.ExtraComponent(name="kfp-api", binary="/x", links=("kube-apiserver", "mariadb"))
    lcc.check_extra_components([db, api])


def test_extra_components_need_the_local_cluster(tmp_path: Path) -> None:
    from infra.cluster import build_cluster

    with pytest.raises(ConfigError, match="only beside the local cluster"):
        build_cluster(ClusterSettings(mode="render", render_dir=tmp_path), [KFP])


# --- kwokctl calls, pid files, stop ---------------------------------------------------------


def test_kwokctl_runs_with_our_kubectl_first_and_no_proxy(tmp_path: Path) -> None:
    kw = Kwokctl(tmp_path / "s", tmp_path / "bin")
    env = kw.env({"PATH": "/usr/bin", "HTTPS_PROXY": "http://p:3128", "no_proxy": "x"})
    assert env["PATH"].split(os.pathsep)[:2] == [str(tmp_path / "bin"), "/usr/bin"]
    assert env["KWOK_WORKDIR"] == str(tmp_path / "s" / "kwok")
    assert not {"HTTPS_PROXY", "no_proxy"} & set(env)
    assert kw.argv("get", "kubeconfig")[1:] == [f"--name={CLUSTER_NAME}", "get", "kubeconfig"]
    assert kw.workdir == tmp_path / "s" / "kwok" / "clusters" / CLUSTER_NAME


def _fake_kwokctl(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "kwokctl").write_text(f"#!/bin/sh\n{body}\n")
    (bin_dir / "kwokctl").chmod(0o755)


def test_a_failing_kwokctl_call_shows_the_command_and_its_output(tmp_path: Path) -> None:
    _fake_kwokctl(tmp_path / "bin", 'echo "level=ERROR msg=boom $*" >&2; exit 3')
    (tmp_path / "s").mkdir()
    with pytest.raises(KwokctlError, match=r"(?s)create cluster` exited 3:.*msg=boom"):
        Kwokctl(tmp_path / "s", tmp_path / "bin").run("create", "cluster")


def _cluster_with_a_process(tmp_path: Path, bin_dir: Path) -> tuple[Path, subprocess.Popen[bytes]]:
    """A state dir as start() leaves it, with `etcd` a sleeping process of its own session."""
    state = tmp_path / "state"
    kw = Kwokctl(state, bin_dir)
    (kw.workdir / "pids").mkdir(parents=True)
    (kw.workdir / "kwok.yaml").write_text("kind: KwokctlConfiguration\n")
    kw.kubeconfig_path.write_text("kind: Config\n")
    (state / lc.STATE_MARKER).write_text("")
    (state / "cluster.yaml").write_text(lcc.Recorded(bin_dir=str(bin_dir)).to_yaml())
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    (kw.workdir / "pids" / "etcd.pid").write_text(str(proc.pid))
    return state, proc


def test_records_and_is_running_follow_kwokctl_pid_files(tmp_path: Path) -> None:
    state, proc = _cluster_with_a_process(tmp_path, tmp_path / "bin")
    try:
        records = lc.read_records(state)
        assert set(records) == {"etcd"}
        assert records["etcd"].pid == proc.pid and lc.process_alive(records["etcd"])
        assert not lc.is_running(state), "kube-apiserver and the others are not running"
        reused = ProcessRecord(proc.pid, records["etcd"].start_time + 1)
        assert not lc.process_alive(reused), "a reused pid is not our process"
    finally:
        proc.kill()
        proc.wait()
    assert not lc.process_alive(records["etcd"])


def test_stop_deletes_through_kwokctl_then_makes_sure(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    calls = tmp_path / "calls"
    # A kwokctl that records its call and stops nothing: stop() must still end etcd.
    _fake_kwokctl(bin_dir, f'echo "$*" >>{calls}')
    state, proc = _cluster_with_a_process(tmp_path, bin_dir)
    try:
        lc.stop(state)
        # (stop() reaps its children itself, so no exit status is left for proc.wait())
        assert not Path(f"/proc/{proc.pid}").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not state.exists()
    assert calls.read_text().split()[:3] == [f"--name={CLUSTER_NAME}", "delete", "cluster"]


def test_stop_of_missing_dir_is_a_no_op_and_a_foreign_dir_is_kept(tmp_path: Path) -> None:
    lc.stop(tmp_path / "nothing-here")
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(lc.LocalClusterError, match="not deleting"):
        lc.stop(tmp_path)
    assert (tmp_path / "precious.txt").exists()


def test_start_checks_its_inputs_before_touching_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bin_dir: Path
) -> None:
    monkeypatch.setattr(lc, "network_links", lambda: ["lo"])
    with pytest.raises(lcc.LocalClusterConfigError, match="delayFactor"):
        lc.start(tmp_path / "state", bin_dir, delay_factor=-1)
    with pytest.raises(lc.LocalClusterError, match=r"missing in .*kwokctl.*kube-tools\.sh"):
        lc.start(tmp_path / "state", bin_dir)
    assert not (tmp_path / "state").exists()


def test_volumes_bind_any_class_less_claim(tmp_path: Path) -> None:
    """KFP's MySQL and SeaweedFS claims name no storage class: the pre-made volumes must
    have none either, offer every access mode and be big enough for upstream's requests."""
    volume = lcc.volume_manifest(3, tmp_path)
    assert volume["metadata"]["name"] == "local-pv-3"
    assert "storageClassName" not in volume["spec"]
    assert set(volume["spec"]["accessModes"]) == {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"}
    assert volume["spec"]["capacity"]["storage"] == "100Gi"
    assert volume["spec"]["hostPath"]["path"] == str(tmp_path / "volumes" / "pv-3")


# --- dynamic provider -----------------------------------------------------------------


def test_provider_diff_restarts_what_died_and_refuses_a_new_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    provider = lcr.LocalClusterProvider()
    state, proc = _cluster_with_a_process(tmp_path, tmp_path / "bin")
    proc.kill()
    proc.wait()
    olds = {"state_dir": str(state), "bin_dir": "/b", "api_port": None, "delay_factor": 1.0}
    monkeypatch.setattr(lc, "is_running", lambda _d: True)
    assert not provider.diff("id", olds, dict(olds)).changes
    monkeypatch.setattr(lc, "is_running", lambda _d: False)
    died = provider.diff("id", olds, dict(olds))  # a reboot: an update, which restarts it
    assert died.changes and not died.replaces
    with pytest.raises(lcr.ReplacedClusterError) as slower:
        provider.diff("id", olds, {**olds, "delay_factor": 5.0})
    assert "(kubeflow:localCluster.delayFactor)" in str(slower.value)
    assert "fix: set them back, or destroy the stack (`make destroy`;" in str(slower.value)
    moved = {**olds, "state_dir": "/t", "extra_components": [KFP.to_props()]}
    with pytest.raises(lcr.ReplacedClusterError, match="localClusterDir, the processes started"):
        provider.diff("id", olds, moved)


def test_a_cluster_whose_state_is_gone_is_refused(tmp_path: Path) -> None:
    """`make clean` (or an rm) while the stack is up: restarting would make an empty cluster
    under the objects the stack records."""
    olds = {"state_dir": str(tmp_path / "gone"), "bin_dir": "/b", "delay_factor": 1.0}
    with pytest.raises(lcr.LostClusterError, match="fix: destroy the stack"):
        lcr.LocalClusterProvider().diff("id", olds, dict(olds))


def test_create_takes_back_a_kept_cluster_and_refuses_one_made_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `destroy` of a stack that keeps data leaves its cluster running: the next `up`
    takes it back when it was made with the same settings, and will not remove it (and its
    data) when the settings are others."""
    state, proc = _cluster_with_a_process(tmp_path, tmp_path / "bin")
    proc.kill()
    proc.wait()
    monkeypatch.setattr(lc, "start", lambda *_a, **_k: "kind: Config")
    props = {"state_dir": str(state), "bin_dir": str(tmp_path / "bin"), "delay_factor": 1.0}
    created = lcr.LocalClusterProvider().create(props)
    assert created.outs is not None and created.outs["kubeconfig"] == "kind: Config"
    with pytest.raises(lcr.KeptClusterError, match=r"stop it with `\.venv/bin/python -m infra"):
        lcr.LocalClusterProvider().create({**props, "delay_factor": 3.0})


def test_provider_update_starts_the_cluster_again(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Path, float]] = []

    def start(state_dir: Path, _bin: Path, **kwargs: Any) -> str:
        started.append((state_dir, kwargs["delay_factor"]))
        return "kind: Config"

    monkeypatch.setattr(lc, "start", start)
    props = {"state_dir": "/s", "bin_dir": "/b", "api_port": None, "delay_factor": 2.0}
    result = lcr.LocalClusterProvider().update("id", props, props)
    assert started == [(Path("/s"), 2.0)]
    assert result.outs is not None
    assert (result.outs["kubeconfig"], result.outs["running"]) == ("kind: Config", True)


def test_provider_read(tmp_path: Path) -> None:
    """A refresh keeps a cluster whose state is gone (the next diff refuses it), so that no
    `up` makes a new, empty one under the objects the stack records."""
    provider = lcr.LocalClusterProvider()
    gone = provider.read("id", {"state_dir": str(tmp_path / "gone"), "bin_dir": "/b"})
    assert gone.id == "id" and gone.outs is not None and gone.outs["running"] is False
    state, proc = _cluster_with_a_process(tmp_path, tmp_path / "bin")
    proc.kill()
    proc.wait()
    props = {"state_dir": str(state), "bin_dir": "/b", "kubeconfig": "kind: Config"}
    result = provider.read("id", props)
    assert result.id == "id"
    assert result.outs is not None
    assert result.outs["running"] is False
    assert result.outs["kubeconfig"] == "kind: Config"


def test_provider_pickles_by_reference() -> None:
    """Pulumi serializes the provider with dill; it must load in a fresh interpreter."""
    from pulumi.dynamic.dynamic import serialize_provider

    blob = serialize_provider(lcr.LocalClusterProvider())
    code = (
        "import base64, sys, dill; "
        "p = dill.loads(base64.b64decode(sys.stdin.read())); "
        "print(type(p).__module__, type(p).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=blob, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["infra.local_cluster_resource", "LocalClusterProvider"]


# --- ports --------------------------------------------------------------------------


def test_one_cluster_at_a_time_takes_its_ports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """kwokctl picks ports that nothing listens on yet: while one cluster starts, another
    start waits for the lock (two test runs side by side took the same ports without it)."""
    lock = tmp_path / "ports.lock"

    def free() -> bool:
        with lock.open("a") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other, fcntl.LOCK_UN)
            return True

    with ports_taken(lock):
        assert not free()
    assert free()

    # start() holds it from kwokctl's create until the cluster is up
    monkeypatch.setattr(lcw, "PORTS_LOCK", lock)
    monkeypatch.setattr(lc, "network_links", lambda: ["lo"])
    monkeypatch.setattr(lc, "check_binaries", lambda _bin_dir: None)
    monkeypatch.setattr(lc, "_prepare", lambda _kw, _recorded: "kwok.yaml")
    held: dict[str, bool] = {}
    monkeypatch.setattr(lc, "_converge", lambda *_args: held.setdefault("converge", not free()))

    def run(_kw: Kwokctl, *args: str, **_options: Any) -> str:
        held.setdefault(args[0], not free())
        return "kubeconfig"

    monkeypatch.setattr(Kwokctl, "run", run)
    assert lc.start(tmp_path / "state", tmp_path / "bin") == "kubeconfig"
    assert held == {"create": True, "converge": True, "get": False}


@pytest.mark.usefixtures("kube_bin")
def test_the_local_stacks_provider_names_the_cluster_by_its_id(tmp_path: Path) -> None:
    """What keeps a restart from replacing the provider and every object: it names the
    cluster by its ID, whatever the kubeconfig (unknown to the preview of a restart; the
    restart itself: tests/e2e/test_local_reboot.py); and objects it cannot reach leave the
    stack on a destroy (their cluster's state goes with it)."""
    cluster_dir = tmp_path / "cluster"
    recorder = run_stack(
        "local",
        {"kubeflow:components": ["pipelines"], "kubeflow:localClusterDir": str(cluster_dir)},
    )
    (provider,) = recorder.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["clusterIdentifier"] == lcr._resource_id(str(cluster_dir))
    assert provider.inputs["deleteUnreachable"] == "true"


@pytest.mark.usefixtures("kube_bin")
@pytest.mark.parametrize(
    ("settings", "kept"),
    [
        ({"kubeflow:components": ["pipelines"]}, False),  # keepData off on local by default
        ({"kubeflow:components": ["pipelines"], "kubeflow:keepData": "true"}, True),
        ({"kubeflow:components": ["pipelines"], "kubeflow:pipelines": {"keepData": True}}, True),
        # no component left (nor the example pipelines, which need KFP), but the data of
        # those removed while the stack kept data may be there
        (
            {
                "kubeflow:components": [],
                "kubeflow:keepData": "true",
                "kubeflow:examplePipelines": None,
            },
            True,
        ),
    ],
)
def test_a_local_stack_that_keeps_data_keeps_its_cluster(
    settings: dict[str, object], kept: bool
) -> None:
    """`destroy` stops the cluster, and its state and every object in it go: a stack that
    keeps data leaves it running instead (the command that stops it:
    test_the_stop_command_stops_a_cluster_a_destroy_left)."""
    recorder = run_stack("local", settings)
    (cluster,) = recorder.of_type(kept_objects.LOCAL_CLUSTER_TYPE)
    assert cluster.retain_on_delete is kept


def test_the_stop_command_stops_a_cluster_a_destroy_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped: list[Path] = []
    monkeypatch.setattr(lc, "stop", stopped.append)
    command = kept_objects.delete_command(kept_objects.LOCAL_CLUSTER, "", "/s/cluster").split()
    assert command[:4] == [".venv/bin/python", "-m", "infra.local_cluster_resource", "stop"]
    assert lcr.main(command[3:]) == 0
    assert stopped == [Path("/s/cluster")]
    assert lcr.main(["start", "/s"]) == 2
    assert "usage:" in capsys.readouterr().err
