"""Unit tests of the pure parts of infra.local_cluster (no cluster, no netns needed)."""

from __future__ import annotations

import base64
import copy
import ipaddress
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import local_cluster as lc


def _cfg(tmp_path: Path) -> lc.ClusterConfig:
    return lc.ClusterConfig(
        state_dir=tmp_path / "state",
        bin_dir=tmp_path / "bin",
        api_port=16443,
        etcd_client_port=12379,
        etcd_peer_port=12380,
        controller_manager_port=20257,
        scheduler_port=20259,
    )


# --- webhooks -----------------------------------------------------------------------


def _webhook_config(kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": "kfp"},
        "webhooks": [
            {"name": "a.kubeflow.org", "failurePolicy": "Fail", "timeoutSeconds": 30},
            {"name": "b.kubeflow.org"},
        ],
    }


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
def test_ignore_webhook_failures_sets_ignore_and_short_timeout(kind: str) -> None:
    obj = _webhook_config(kind)
    before = copy.deepcopy(obj)
    out = lc.ignore_webhook_failures(obj)
    assert obj == before, "input must not be modified"
    assert [w["failurePolicy"] for w in out["webhooks"]] == ["Ignore", "Ignore"]
    assert [w["timeoutSeconds"] for w in out["webhooks"]] == [lc.WEBHOOK_TIMEOUT_SECONDS] * 2
    assert [w["name"] for w in out["webhooks"]] == ["a.kubeflow.org", "b.kubeflow.org"]
    assert out["metadata"] == obj["metadata"]


def test_ignore_webhook_failures_leaves_other_objects_alone() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    assert lc.ignore_webhook_failures(deployment) is deployment
    # Same kind name, other group (e.g. a CRD of someone else): untouched.
    other = {**_webhook_config("MutatingWebhookConfiguration"), "apiVersion": "example.com/v1"}
    assert lc.ignore_webhook_failures(other) is other


def test_ignore_webhook_failures_without_webhooks() -> None:
    obj = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration"}
    assert lc.ignore_webhook_failures(obj) == obj


# --- netns check ----------------------------------------------------------------------


def test_check_loopback_only_accepts_only_lo() -> None:
    lc.check_loopback_only(["lo"])


@pytest.mark.parametrize("links", [["eth0", "lo"], ["lo", "veth1"], []])
def test_check_loopback_only_refuses_other_links(links: list[str]) -> None:
    with pytest.raises(lc.NotInLoopbackNetnsError, match=r"scripts/netns\.sh"):
        lc.check_loopback_only(links)


def test_network_links_parses_proc_net_dev(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.write_text(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes\n"
        "    lo:    1234      10    0    0    0     0          0         0     1234\n"
        "  eth0: 999999     100    0    0    0     0          0         0     5555\n"
    )
    assert lc.network_links(dev) == ["eth0", "lo"]


def test_network_links_of_this_process_is_a_list() -> None:
    assert "lo" in lc.network_links()


# --- configuration --------------------------------------------------------------------


def test_config_json_round_trip(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert lc.ClusterConfig.from_json(cfg.to_json()) == cfg
    assert cfg.server == "https://127.0.0.1:16443"


def test_component_commands_use_our_binaries_and_loopback(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    cmds = lc.component_commands(cfg)
    assert list(cmds) == list(lc.COMPONENTS)
    for name, argv in cmds.items():
        assert argv[0] == str(cfg.bin_dir / name)
        joined = " ".join(argv)
        assert "0.0.0.0" not in joined, f"{name} must not listen on all addresses"
    api = cmds["kube-apiserver"]
    assert "--bind-address=127.0.0.1" in api
    assert "--secure-port=16443" in api
    assert "--etcd-servers=http://127.0.0.1:12379" in api
    advertise = next(a for a in api if a.startswith("--advertise-address="))
    assert not ipaddress.ip_address(advertise.split("=", 1)[1]).is_loopback
    assert "--listen-client-urls=http://127.0.0.1:12379" in cmds["etcd"]
    assert "--secure-port=20257" in cmds["kube-controller-manager"]
    assert "--secure-port=20259" in cmds["kube-scheduler"]
    key, value = lc.KWOK_NODE_ANNOTATION
    assert f"--manage-nodes-with-annotation-selector={key}={value}" in cmds["kwok"]


def test_component_env_drops_proxies_and_isolates_kwok_home(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    base = {"PATH": "/usr/bin", "HTTPS_PROXY": "http://proxy:3128", "no_proxy": "x", "HOME": "/r"}
    env = lc.component_env("kube-apiserver", cfg, base)
    assert env == {"PATH": "/usr/bin", "HOME": "/r"}
    assert lc.component_env("kwok", cfg, base)["HOME"] == str(cfg.state_dir / "kwok")


def test_kubeconfig_embeds_credentials() -> None:
    kc = lc.kubeconfig_dict("https://127.0.0.1:1", "CA", "CERT", "KEY")
    text = yaml.safe_dump(kc)
    back = yaml.safe_load(text)
    cluster = back["clusters"][0]["cluster"]
    user = back["users"][0]["user"]
    assert cluster["server"] == "https://127.0.0.1:1"
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"CA"
    assert base64.b64decode(user["client-certificate-data"]) == b"CERT"
    assert base64.b64decode(user["client-key-data"]) == b"KEY"
    assert back["current-context"] == lc.CLUSTER_NAME


def test_node_manifest_is_managed_by_kwok() -> None:
    node = lc.node_manifest("kwok-node-7")
    key, value = lc.KWOK_NODE_ANNOTATION
    assert node["metadata"]["annotations"][key] == value
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "kwok-node-7"
    assert "taints" not in node.get("spec", {}), "KubeFlow pods must schedule without tolerations"


def test_node_ready() -> None:
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}
    assert lc.node_ready(ready)
    assert not lc.node_ready(not_ready)
    assert not lc.node_ready({})


def test_kwok_stages_parse() -> None:
    docs = list(yaml.safe_load_all(lc.KWOK_STAGES_YAML))
    assert {d["kind"] for d in docs} == {"Stage"}
    names = {d["metadata"]["name"] for d in docs}
    assert names == {
        "node-initialize",
        "node-heartbeat-with-lease",
        "pod-ready",
        "pod-complete",
        "pod-delete",
    }


def test_generate_pki(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    lc.generate_pki(tmp_path)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((tmp_path / "apiserver.crt").read_bytes())
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert "kubernetes.default.svc" in sans.get_values_for_type(x509.DNSName)
    admin = x509.load_pem_x509_certificate((tmp_path / "admin.crt").read_bytes())
    admin.verify_directly_issued_by(ca)
    orgs = [a.value for a in admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters"]
    front_ca = x509.load_pem_x509_certificate((tmp_path / "front-proxy-ca.crt").read_bytes())
    front = x509.load_pem_x509_certificate((tmp_path / "front-proxy-client.crt").read_bytes())
    front.verify_directly_issued_by(front_ca)
    assert front.subject.rfc4514_string() == f"CN={lc.FRONT_PROXY_CLIENT}"
    stems = ("ca", "front-proxy-ca", "front-proxy-client", "apiserver", "sa", *lc.CLIENT_CERTS)
    for stem in stems:
        assert (tmp_path / f"{stem}.key").stat().st_mode & 0o077 == 0
    assert isinstance(
        x509.load_pem_x509_certificate((tmp_path / "kwok.crt").read_bytes()).public_key(),
        ec.EllipticCurvePublicKey,
    )


def test_prepare_state_writes_everything(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    kubeconfig = lc.prepare_state(cfg)
    assert yaml.safe_load(kubeconfig)["clusters"][0]["cluster"]["server"] == cfg.server
    assert (cfg.state_dir / lc.STATE_MARKER).exists()
    assert lc.load_config(cfg.state_dir) == cfg
    for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
        kc = yaml.safe_load((cfg.kubeconfig_dir / f"{name}.kubeconfig").read_text())
        assert Path(kc["users"][0]["user"]["client-certificate"]).exists()
    assert (cfg.state_dir / "kwok" / "stages.yaml").read_text() == lc.KWOK_STAGES_YAML
    assert cfg.admin_kubeconfig.stat().st_mode & 0o077 == 0


# --- binaries, processes, stop --------------------------------------------------------


def test_check_binaries_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(lc.LocalClusterError, match=r"scripts/kube-tools\.sh"):
        lc.check_binaries(tmp_path)


def test_start_refuses_outside_netns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(lc, "network_links", lambda: ["eth0", "lo"])
    with pytest.raises(lc.NotInLoopbackNetnsError, match="loopback-only"):
        lc.start(tmp_path / "state", tmp_path / "bin")
    assert not (tmp_path / "state").exists()


def test_process_record_and_liveness() -> None:
    stat = lc._proc_stat(os.getpid())
    assert stat is not None
    me = lc.ProcessRecord(os.getpid(), stat[1])
    assert lc.ProcessRecord.parse(me.render()) == me
    assert lc.process_alive(me)
    assert not lc.process_alive(lc.ProcessRecord(os.getpid(), stat[1] + 1)), "pid reused"


def test_stop_kills_recorded_processes_and_removes_state(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    cfg.state_dir.mkdir()
    (cfg.state_dir / lc.STATE_MARKER).write_text("")
    rec = lc._spawn("kwok", ["sleep", "300"], cfg)
    assert lc.process_alive(rec)
    assert lc.component_status(cfg.state_dir)["kwok"]
    assert not lc.is_running(cfg.state_dir), "the other components are not running"
    lc.stop(cfg.state_dir)
    assert not lc.process_alive(rec)
    assert not cfg.state_dir.exists()


def test_stop_of_missing_dir_is_a_no_op(tmp_path: Path) -> None:
    lc.stop(tmp_path / "nothing-here")


def test_stop_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(lc.LocalClusterError, match="not deleting"):
        lc.stop(tmp_path)
    assert (tmp_path / "precious.txt").exists()


# --- dynamic provider -----------------------------------------------------------------


def test_provider_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = lc.LocalClusterProvider()
    olds = {"state_dir": "/s", "bin_dir": "/b", "api_port": None}
    monkeypatch.setattr(lc, "is_running", lambda _d: True)
    same = provider.diff("id", olds, dict(olds))
    assert not same.changes
    moved = provider.diff("id", olds, {**olds, "state_dir": "/t"})
    assert moved.changes and moved.replaces == ["state_dir"]
    assert moved.delete_before_replace
    monkeypatch.setattr(lc, "is_running", lambda _d: False)
    died = provider.diff("id", olds, dict(olds))
    assert died.changes and died.replaces == ["state_dir"]


def test_provider_read_without_state_drops_the_resource(tmp_path: Path) -> None:
    provider = lc.LocalClusterProvider()
    result = provider.read("id", {"state_dir": str(tmp_path / "gone"), "bin_dir": "/b"})
    assert result.id == ""


def test_provider_read_reports_dead_processes(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    lc.prepare_state(cfg)
    provider = lc.LocalClusterProvider()
    props = {"state_dir": str(cfg.state_dir), "bin_dir": str(cfg.bin_dir), "api_port": None}
    result = provider.read("id", props)
    assert result.id == "id"
    assert result.outs is not None
    assert result.outs["running"] is False
    assert "client-key-data" in result.outs["kubeconfig"]


def test_provider_pickles_by_reference() -> None:
    """Pulumi serializes the provider with dill; it must load in a fresh interpreter."""
    from pulumi.dynamic.dynamic import serialize_provider

    blob = serialize_provider(lc.LocalClusterProvider())
    code = (
        "import base64, sys, dill; "
        "p = dill.loads(base64.b64decode(sys.stdin.read())); "
        "print(type(p).__module__, type(p).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=blob, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["infra.local_cluster", "LocalClusterProvider"]


def test_volumes_bind_any_class_less_claim(tmp_path: Path) -> None:
    """KFP's MySQL and SeaweedFS claims name no storage class: the pre-made volumes must
    have none either, offer every access mode and be big enough for upstream's requests."""
    volume = lc.volume_manifest(3, tmp_path)
    assert volume["metadata"]["name"] == "local-pv-3"
    assert "storageClassName" not in volume["spec"]
    assert set(volume["spec"]["accessModes"]) == {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"}
    assert volume["spec"]["capacity"]["storage"] == "100Gi"
    assert volume["spec"]["hostPath"]["path"].startswith(str(tmp_path))
