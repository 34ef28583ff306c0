"""End-to-end: start the simulated cluster (kwokctl), run a Deployment and a Job, stop it.

The cluster runs with its realistic delays (pods Ready 2-5 s after scheduling, deletions
1-3 s, Jobs about 5 s) and one extra component (a Python HTTP server) beside the control
plane. Run inside the loopback-only netns, after building the binaries:

    scripts/kube-tools.sh
    scripts/netns.sh .venv/bin/pytest -m e2e tests/e2e/test_local_cluster.py

The bin dir is KUBEFLOW_KUBE_BIN_DIR if set, else the one scripts/kube-tools.sh builds.
Nothing is skipped: a missing binary or a missing netns is a failure that names the fix.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import local_cluster as lc
from infra import local_cluster_resource as lcr
from infra.process_runner import free_ports
from tests.paths import REPO

pytestmark = pytest.mark.e2e


def _k8s_version() -> str:
    go_mod = (REPO / "tools" / "kube" / "kubernetes" / "go.mod").read_text()
    match = re.search(r"^\s*k8s\.io/kubernetes (v\d+\.\d+\.\d+)\b", go_mod, re.MULTILINE)
    assert match, "tools/kube/kubernetes/go.mod does not require k8s.io/kubernetes"
    return match.group(1)


K8S_VERSION = _k8s_version()


def _bin_dir() -> Path:
    if os.environ.get("KUBEFLOW_KUBE_BIN_DIR"):
        return Path(os.environ["KUBEFLOW_KUBE_BIN_DIR"])
    tools = Path(os.environ.get("KUBEFLOW_TOOLS_DIR", Path.home() / ".cache" / "kubeflow-pulumi"))
    return tools / f"kube-{K8S_VERSION}" / "bin"


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    links = lc.network_links()
    if links != ["lo"]:
        with pytest.raises(lc.NotInLoopbackNetnsError) as err:
            lc.check_loopback_only(links)
        pytest.fail(str(err.value), pytrace=False)
    path = _bin_dir()
    missing = [b for b in lc.REQUIRED_BINARIES if not (path / b).exists()]
    if missing:
        pytest.fail(
            f"missing binaries in {path}: {', '.join(missing)}. "
            "Run scripts/kube-tools.sh first (or set KUBEFLOW_KUBE_BIN_DIR).",
            pytrace=False,
        )
    return path


class Cluster:
    """A started cluster and how to reach it."""

    def __init__(self, state_dir: Path, bin_dir: Path, kubeconfig: str) -> None:
        self.state_dir = state_dir
        self.bin_dir = bin_dir
        self.kubeconfig = kubeconfig
        self.kubeconfig_path = state_dir.parent / "admin.kubeconfig"
        self.kubeconfig_path.write_text(kubeconfig)
        self.records = lc.read_records(state_dir)

    def run_kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig_path}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        out = self.run_kubectl(*args, stdin=stdin)
        assert out.returncode == 0, f"kubectl {' '.join(args)} failed:\n{out.stderr}"
        return out.stdout


HTTP_PORT = free_ports(("http",))["http"]
#: An extra process beside the control plane, as the KFP API server will be.
HTTP = lc.ExtraComponent(
    name="http",
    binary=sys.executable,
    args=("-m", "http.server", str(HTTP_PORT), "--bind", "127.0.0.1"),
    env=(("GREETING", "hello"),),
    ready_port=HTTP_PORT,
)


@pytest.fixture(scope="module")
def cluster(bin_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state_dir = tmp_path_factory.mktemp("local-cluster") / "state"
    t0 = time.monotonic()
    kubeconfig = lc.start(state_dir, bin_dir, extra_components=[HTTP])
    print(f"\nlocal cluster started in {time.monotonic() - t0:.1f}s")
    try:
        yield Cluster(state_dir, bin_dir, kubeconfig)
    finally:
        lc.stop(state_dir)


def test_version_is_the_pinned_release(cluster: Cluster) -> None:
    version = yaml.safe_load(cluster.kubectl("get", "--raw", "/version"))
    assert version["gitVersion"] == K8S_VERSION
    assert version["major"] == "1"
    assert version["minor"] == K8S_VERSION.split(".")[1]


def test_the_kubeconfig_file_is_whole_and_its_owners_only(cluster: Cluster) -> None:
    path = cluster.state_dir / "kubeconfig"
    assert path.read_text() == cluster.kubeconfig
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in cluster.state_dir.glob("kubeconfig*")) == ["kubeconfig"]


def test_nodes_are_ready(cluster: Cluster) -> None:
    nodes = yaml.safe_load(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    assert len(nodes) == lc.NODES
    assert all(lc.node_ready(n) for n in nodes)


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: hello
        image: registry.invalid/hello:1
        ports:
        - containerPort: 8080
"""


def test_deployment_becomes_available(cluster: Cluster) -> None:
    from kubernetes import client, config

    api_client = config.new_client_from_config_dict(yaml.safe_load(cluster.kubeconfig))
    apps = client.AppsV1Api(api_client)
    core = client.CoreV1Api(api_client)
    apps.create_namespaced_deployment("default", yaml.safe_load(DEPLOYMENT))

    deadline = time.monotonic() + 120
    conditions: dict[str, Any] = {}
    while time.monotonic() < deadline:
        dep = apps.read_namespaced_deployment("hello", "default")
        conditions = {c.type: c.status for c in (dep.status.conditions or [])}
        if conditions.get("Available") == "True" and dep.status.available_replicas == 2:
            break
        time.sleep(1)
    else:
        pytest.fail(f"Deployment not Available after 120s: {conditions}")

    pods = core.list_namespaced_pod("default", label_selector="app=hello").items
    assert len(pods) == 2
    assert {p.status.phase for p in pods} == {"Running"}
    nodes = {n.metadata.name for n in core.list_node().items}
    assert {p.spec.node_name for p in pods} <= nodes
    for pod in pods:
        # Realistic: Ready 2-5 s after scheduling (timestamps have whole seconds).
        times = {c.type: c.last_transition_time for c in pod.status.conditions}
        delay = (times["Ready"] - times["PodScheduled"]).total_seconds()
        assert 1 <= delay <= 6, f"{pod.metadata.name} Ready {delay}s after scheduling"


def test_job_completes(cluster: Cluster) -> None:
    cluster.kubectl("create", "job", "once", "--image=registry.invalid/once:1")
    cluster.kubectl("wait", "--for=condition=Complete", "job/once", "--timeout=120s")
    job = yaml.safe_load(cluster.kubectl("get", "job", "once", "-o", "yaml"))
    started, done = (job["status"][k] for k in ("startTime", "completionTime"))
    took = (_time(done) - _time(started)).total_seconds()
    assert 2 <= took <= 10, f"the Job took {took}s, expected about 5s"


def test_a_deleted_pod_takes_a_moment_to_go(cluster: Cluster) -> None:
    cluster.kubectl("run", "short", "--image=registry.invalid/short:1")
    cluster.kubectl("wait", "--for=condition=Ready", "pod/short", "--timeout=60s")
    t0 = time.monotonic()
    cluster.kubectl("delete", "pod", "short", "--wait=true", "--timeout=60s")
    took = time.monotonic() - t0
    assert 0.9 <= took <= 10, f"deleting took {took:.1f}s, expected 1-3s"


def _crd(plural: str) -> dict[str, Any]:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": plural.capitalize().removesuffix("s"), "plural": plural},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def test_crds_go_at_once_the_api_server_reading_etcd(cluster: Cluster) -> None:
    """Reads go to etcd, without watch caches: deleting a CRD lists its custom resources, and
    a watch cache started for that list could hold the delete until etcd's next compaction
    (up to 5 minutes; docs/local-cluster.md)."""
    crds = [_crd(f"gadget{i}s") for i in range(10)]
    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(crds))
    names = [f"crd/{c['metadata']['name']}" for c in crds]
    cluster.kubectl("wait", "--for=condition=Established", *names, "--timeout=50s")
    for crd in crds:
        kind = crd["spec"]["names"]["kind"]
        thing = {"apiVersion": "example.com/v1", "kind": kind, "metadata": {"name": "one"}}
        cluster.kubectl("apply", "-n", "default", "-f", "-", stdin=yaml.safe_dump(thing))
    t0 = time.monotonic()
    cluster.kubectl("delete", "--wait=true", "--timeout=55s", *names)
    took = time.monotonic() - t0
    assert took < 30, f"deleting 10 CRDs took {took:.1f}s"
    metrics = cluster.kubectl("get", "--raw", "/metrics").splitlines()
    assert not [m for m in metrics if m.startswith("apiserver_watch_cache_initializations_total")]


def _time(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_service_account_tokens_are_signed(cluster: Cluster) -> None:
    token = cluster.kubectl("create", "token", "default").strip()
    assert token.count(".") == 2, "expected a JWT"
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }
    out = yaml.safe_load(
        cluster.kubectl("create", "-o", "yaml", "-f", "-", stdin=yaml.safe_dump(review))
    )
    assert out["status"]["authenticated"] is True
    assert out["status"]["user"]["username"] == "system:serviceaccount:default:default"


def test_webhooks_fail_open_after_the_transform(cluster: Cluster) -> None:
    """A webhook that cannot answer (its Service has no real pod) must not block writes."""
    webhook: dict[str, Any] = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "unreachable"},
        "webhooks": [
            {
                "name": "unreachable.kubeflow.test",
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "clientConfig": {"service": {"namespace": "default", "name": "nothing"}},
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["configmaps"],
                    }
                ],
            }
        ],
    }
    # The Service exists and has a ClusterIP (10.x), so the apiserver dials it: in the
    # loopback-only netns that fails at once ("network is unreachable").
    cluster.kubectl("create", "service", "clusterip", "nothing", "--tcp=443:443")

    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(webhook))
    blocked = cluster.run_kubectl("create", "configmap", "blocked", "--from-literal=a=b")
    assert blocked.returncode != 0
    assert "failed calling webhook" in blocked.stderr

    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(lc.ignore_webhook_failures(webhook)))
    t0 = time.monotonic()
    cluster.kubectl("create", "configmap", "through-webhook", "--from-literal=a=b")
    assert time.monotonic() - t0 < 30
    cluster.kubectl("delete", "validatingwebhookconfiguration", "unreachable")


def test_the_extra_component_runs_beside_the_control_plane(cluster: Cluster) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{HTTP_PORT}/", timeout=5) as resp:
        assert resp.status == 200
    pid = cluster.records["http"].pid
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
        if "=" in item
    )
    assert environ["GREETING"] == "hello"
    kubeconfig = Path(environ["KUBECONFIG"])
    version = cluster.kubectl(f"--kubeconfig={kubeconfig}", "version", "-o", "json")
    assert yaml.safe_load(version)["serverVersion"]["gitVersion"] == K8S_VERSION
    assert Path(environ["KUBEFLOW_COMPONENT_DIR"]).is_dir()


def test_provider_sees_the_running_cluster(cluster: Cluster) -> None:
    provider = lcr.LocalClusterProvider()
    props = {
        "state_dir": str(cluster.state_dir),
        "bin_dir": str(cluster.bin_dir),
        "extra_components": [HTTP.to_props()],
    }
    # create() on a running cluster is idempotent: same kubeconfig, nothing restarted.
    t0 = time.monotonic()
    created = provider.create(props)
    print(f"\nstart() on the running cluster: {time.monotonic() - t0:.1f}s")
    assert created.outs is not None
    assert created.outs["kubeconfig"] == cluster.kubeconfig
    assert lc.read_records(cluster.state_dir) == cluster.records
    read = provider.read(created.id, dict(created.outs))
    assert read.outs is not None
    assert read.outs["running"] is True
    assert not provider.diff(created.id, dict(created.outs), props).changes


def test_start_again_restarts_what_died(cluster: Cluster) -> None:
    scheduler = cluster.records["kube-scheduler"]
    os.kill(scheduler.pid, 9)
    deadline = time.monotonic() + 10
    while lc.process_alive(scheduler) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not lc.is_running(cluster.state_dir)
    assert (
        lc.start(cluster.state_dir, cluster.bin_dir, extra_components=[HTTP]) == cluster.kubeconfig
    )
    assert lc.is_running(cluster.state_dir)
    records = lc.read_records(cluster.state_dir)
    assert records["kube-scheduler"] != scheduler
    assert records["kube-apiserver"] == cluster.records["kube-apiserver"]
    cluster.records = records


def test_stop_ends_every_process(cluster: Cluster) -> None:
    records = cluster.records
    assert set(records) == {*lc.CONTROL_PLANE, "http"}
    assert lc.is_running(cluster.state_dir)
    t0 = time.monotonic()
    lcr.LocalClusterProvider().delete("id", {"state_dir": str(cluster.state_dir)})
    print(f"\nlocal cluster stopped in {time.monotonic() - t0:.1f}s")
    still = [name for name, rec in records.items() if lc.process_alive(rec)]
    assert not still, f"still running after stop: {still}"
    assert not cluster.state_dir.exists()
    assert not lc.is_running(cluster.state_dir)
