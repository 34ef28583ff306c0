"""A simulated Kubernetes cluster on this machine, for the `local` stack and e2e tests.

Real control plane, fake data plane: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler run as local processes; kwok plays the kubelets, so Nodes turn Ready and
scheduled Pods turn Running/Ready without any container running. Binaries come from
``scripts/kube-tools.sh`` (Go modules pinned in ``tools/kube/``); see docs/local-cluster.md.

Everything that starts or talks to the cluster runs inside the loopback-only network
namespace of ``scripts/netns.sh``: the apiserver dials Service and Pod addresses (10.x)
for webhooks and aggregated APIs, and in there nothing off this machine can be reached.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic
import yaml

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

#: Components in start order; stop() goes in reverse.
COMPONENTS: tuple[str, ...] = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)
#: Binaries start() needs in bin_dir (kubectl is for people and tests).
REQUIRED_BINARIES: tuple[str, ...] = COMPONENTS
DEFAULT_NODES: tuple[str, ...] = ("kwok-node-0", "kwok-node-1")
SERVICE_CIDR = "10.96.0.0/12"
#: Fake pod addresses handed out by kwok; nothing listens there.
POD_CIDR = "10.244.0.0/16"
#: The apiserver must advertise a non-loopback address for the `kubernetes` Service
#: endpoints; TEST-NET-1 (RFC 5737) makes plain that nothing is there.
ADVERTISE_ADDRESS = "192.0.2.1"
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
CLUSTER_NAME = "kubeflow-local"
NETNS_SCRIPT = "scripts/netns.sh"
KUBE_TOOLS_SCRIPT = "scripts/kube-tools.sh"
#: Marks a directory as a local-cluster state dir, so stop() never deletes anything else.
STATE_MARKER = ".kubeflow-local-cluster"
#: Common name of the apiserver's client cert towards aggregated APIs.
FRONT_PROXY_CLIENT = "front-proxy-client"
#: Timeout written into webhooks by ignore_webhook_failures().
WEBHOOK_TIMEOUT_SECONDS = 2
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class LocalClusterError(RuntimeError):
    """The local cluster could not be started, reached or stopped."""


class NotInLoopbackNetnsError(LocalClusterError):
    """The process is not inside a network namespace that has only loopback."""


# --------------------------------------------------------------------------------------
# Network namespace check
# --------------------------------------------------------------------------------------


def network_links(proc_net_dev: Path = Path("/proc/self/net/dev")) -> list[str]:
    """Names of the network links of this process's network namespace."""
    # /proc/self/net follows the netns of the process (unlike /sys/class/net, which
    # follows the one sysfs was mounted in).
    lines = proc_net_dev.read_text().splitlines()[2:]
    return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


def check_loopback_only(links: Sequence[str] | None = None) -> None:
    """Raise NotInLoopbackNetnsError unless the only network link is `lo`."""
    found = sorted(network_links() if links is None else links)
    if found != ["lo"]:
        raise NotInLoopbackNetnsError(
            "refusing to run the local cluster outside a loopback-only network namespace "
            f"(network links here: {', '.join(found) or 'none'}). The kube-apiserver dials "
            "Service and Pod addresses (10.x) for webhooks, which must never leave this "
            f"machine. Fix: run the command through {NETNS_SCRIPT}, e.g. "
            f"`{NETNS_SCRIPT} .venv/bin/pytest -m e2e tests/e2e`."
        )


# --------------------------------------------------------------------------------------
# Webhooks (a limit of the simulation)
# --------------------------------------------------------------------------------------

_WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})


def ignore_webhook_failures(obj: dict[str, Any]) -> dict[str, Any]:
    """Make an admission webhook configuration fail open, for the simulated cluster.

    Simulated pods serve nothing, so no webhook can answer. For Mutating- and
    ValidatingWebhookConfiguration objects every webhook gets ``failurePolicy: Ignore``
    and a short ``timeoutSeconds``; any other object is returned unchanged. The input is
    not modified. Conversion webhooks (CRD ``spec.conversion``) are not touched: CRDs
    with several served versions that need conversion stay a limit of the simulation.
    """
    if obj.get("kind") not in _WEBHOOK_KINDS or not str(obj.get("apiVersion", "")).startswith(
        "admissionregistration.k8s.io/"
    ):
        return obj
    out = dict(obj)
    webhooks = obj.get("webhooks")
    if isinstance(webhooks, list):
        out["webhooks"] = [
            {**hook, "failurePolicy": "Ignore", "timeoutSeconds": WEBHOOK_TIMEOUT_SECONDS}
            if isinstance(hook, dict)
            else hook
            for hook in webhooks
        ]
    return out


# --------------------------------------------------------------------------------------
# Configuration (pure)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterConfig:
    """Where a local cluster lives and which loopback ports it uses."""

    state_dir: Path
    bin_dir: Path
    api_port: int
    etcd_client_port: int
    etcd_peer_port: int
    controller_manager_port: int
    scheduler_port: int
    nodes: tuple[str, ...] = DEFAULT_NODES

    @property
    def server(self) -> str:
        """URL of the kube-apiserver."""
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def pki_dir(self) -> Path:
        """Certificates and keys."""
        return self.state_dir / "pki"

    @property
    def log_dir(self) -> Path:
        """One log file per component."""
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        """One pid file per component."""
        return self.state_dir / "run"

    @property
    def kubeconfig_dir(self) -> Path:
        """Kubeconfigs of the components (file references to pki/)."""
        return self.state_dir / "kubeconfigs"

    @property
    def admin_kubeconfig(self) -> Path:
        """The self-contained admin kubeconfig that start() returns."""
        return self.state_dir / "kubeconfig"

    def to_json(self) -> str:
        """Serialize for state_dir/cluster.json."""
        data = {
            "state_dir": str(self.state_dir),
            "bin_dir": str(self.bin_dir),
            "api_port": self.api_port,
            "etcd_client_port": self.etcd_client_port,
            "etcd_peer_port": self.etcd_peer_port,
            "controller_manager_port": self.controller_manager_port,
            "scheduler_port": self.scheduler_port,
            "nodes": list(self.nodes),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ClusterConfig:
        """Inverse of to_json()."""
        data = json.loads(text)
        return cls(
            state_dir=Path(data["state_dir"]),
            bin_dir=Path(data["bin_dir"]),
            api_port=int(data["api_port"]),
            etcd_client_port=int(data["etcd_client_port"]),
            etcd_peer_port=int(data["etcd_peer_port"]),
            controller_manager_port=int(data["controller_manager_port"]),
            scheduler_port=int(data["scheduler_port"]),
            nodes=tuple(data["nodes"]),
        )


def component_commands(cfg: ClusterConfig) -> dict[str, list[str]]:
    """The argv of every component, keyed by component name (start order)."""
    pki = cfg.pki_dir
    kcfg = cfg.kubeconfig_dir
    etcd_url = f"http://127.0.0.1:{cfg.etcd_client_port}"
    peer_url = f"http://127.0.0.1:{cfg.etcd_peer_port}"
    b = cfg.bin_dir
    return {
        "etcd": [
            str(b / "etcd"),
            "--name=local",
            f"--data-dir={cfg.state_dir / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=local={peer_url}",
            "--initial-cluster-state=new",
            "--auto-compaction-retention=1",
            # A throwaway test cluster: durability is not worth the fsync latency.
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ],
        "kube-apiserver": [
            str(b / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            f"--secure-port={cfg.api_port}",
            f"--advertise-address={ADVERTISE_ADDRESS}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--authorization-mode=Node,RBAC",
            # Front proxy (aggregation layer); also lets the controller-manager and
            # scheduler find a requestheader CA instead of logging its absence.
            f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
            "--allow-privileged=true",
            "--profiling=false",
        ],
        "kube-controller-manager": [
            str(b / "kube-controller-manager"),
            f"--kubeconfig={kcfg / 'kube-controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={kcfg / 'kube-controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={kcfg / 'kube-controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1",
            f"--secure-port={cfg.controller_manager_port}",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--profiling=false",
        ],
        "kube-scheduler": [
            str(b / "kube-scheduler"),
            f"--kubeconfig={kcfg / 'kube-scheduler.kubeconfig'}",
            f"--authentication-kubeconfig={kcfg / 'kube-scheduler.kubeconfig'}",
            f"--authorization-kubeconfig={kcfg / 'kube-scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1",
            f"--secure-port={cfg.scheduler_port}",
            "--leader-elect=false",
            "--profiling=false",
        ],
        "kwok": [
            str(b / "kwok"),
            f"--kubeconfig={kcfg / 'kwok.kubeconfig'}",
            f"--config={cfg.state_dir / 'kwok' / 'stages.yaml'}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector="
            f"{KWOK_NODE_ANNOTATION[0]}={KWOK_NODE_ANNOTATION[1]}",
            f"--cidr={POD_CIDR}",
            "--node-lease-duration-seconds=40",
        ],
    }


def component_env(name: str, cfg: ClusterConfig, base: Mapping[str, str]) -> dict[str, str]:
    """Environment of one component: no proxies; kwok gets its own HOME."""
    env = {k: v for k, v in base.items() if k.lower() not in _PROXY_VARS}
    if name == "kwok":
        # kwok also loads ~/.kwok/kwok.yaml if it exists: keep a user's file out.
        env["HOME"] = str(cfg.state_dir / "kwok")
    return env


def kubeconfig_dict(
    server: str,
    ca_pem: str,
    cert_pem: str,
    key_pem: str,
    user: str = f"{CLUSTER_NAME}-admin",
) -> dict[str, Any]:
    """A self-contained kubeconfig (certificates embedded) for one user."""
    import base64

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(cert_pem),
                    "client-key-data": b64(key_pem),
                },
            }
        ],
        "contexts": [{"name": CLUSTER_NAME, "context": {"cluster": CLUSTER_NAME, "user": user}}],
        "current-context": CLUSTER_NAME,
    }


def component_kubeconfig_dict(server: str, pki_dir: Path, name: str) -> dict[str, Any]:
    """A kubeconfig that points at certificate files, for one component."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {
                    "server": server,
                    "certificate-authority": str(pki_dir / "ca.crt"),
                },
            }
        ],
        "users": [
            {
                "name": name,
                "user": {
                    "client-certificate": str(pki_dir / f"{name}.crt"),
                    "client-key": str(pki_dir / f"{name}.key"),
                },
            }
        ],
        "contexts": [{"name": CLUSTER_NAME, "context": {"cluster": CLUSTER_NAME, "user": name}}],
        "current-context": CLUSTER_NAME,
    }


LOCAL_VOLUMES = 8
"""Pre-made PersistentVolumes: nothing provisions storage on simulated nodes, and a claim
that stays Pending keeps its pod unscheduled (KFP's MySQL and SeaweedFS claim volumes)."""


def volume_manifest(index: int, state_dir: Path) -> dict[str, Any]:
    """A class-less hostPath PersistentVolume that any claim without a storage class binds."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"local-pv-{index}", "labels": {"type": "kwok"}},
        "spec": {
            "capacity": {"storage": "100Gi"},
            "accessModes": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": str(state_dir / "volumes" / f"pv-{index}")},
        },
    }


def node_manifest(name: str) -> dict[str, Any]:
    """A fake Node that kwok manages (its annotation matches kwok's selector)."""
    resources = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                KWOK_NODE_ANNOTATION[0]: KWOK_NODE_ANNOTATION[1],
            },
            "labels": {
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/os": "linux",
                "kubernetes.io/hostname": name,
                "type": "kwok",
            },
        },
        "status": {"allocatable": dict(resources), "capacity": dict(resources)},
    }


#: Client certificates: file stem -> (common name, organizations).
CLIENT_CERTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": (f"{CLUSTER_NAME}-admin", ("system:masters",)),
    "kube-controller-manager": ("system:kube-controller-manager", ()),
    "kube-scheduler": ("system:kube-scheduler", ()),
    "kwok": ("kwok-controller", ("system:masters",)),
}


def apiserver_sans() -> tuple[list[str], list[str]]:
    """DNS names and IP addresses of the apiserver's serving certificate."""
    service_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
    dns = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    return dns, ["127.0.0.1", service_ip, ADVERTISE_ADDRESS]


# --------------------------------------------------------------------------------------
# kwok stages
# --------------------------------------------------------------------------------------

#: kwok Stages (from kwok v0.8.0 kustomize/stage, Apache-2.0): node-initialize and
#: node-heartbeat-with-lease make Nodes Ready and keep them so; pod-ready, pod-complete
#: and pod-delete move Pods to Running/Ready, finish Job pods and finish deletions.
KWOK_STAGES_YAML = """\
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values:
      - 'True'
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type  | Quote}}
      {{ end }}

      {{ $hasInternalIP := false }}
      {{ $hasHostname := false }}
      {{ range .status.addresses }}
        {{ if eq .type "InternalIP" }}
          {{ $hasInternalIP = true }}
        {{ end }}
        {{ if eq .type "Hostname" }}
          {{ $hasHostname = true }}
        {{ end }}
      {{ end }}
      {{ if or (not $hasInternalIP) (not $hasHostname) }}
      addresses:
      {{ end }}
      {{ if not $hasInternalIP }}
      {{ with NodeIP }}
      - address: {{ . | Quote }}
        type: InternalIP
      {{ end }}
      {{ end }}
      {{ if not $hasHostname }}
      {{ with NodeName }}
      - address: {{ . | Quote }}
        type: Hostname
      {{ end }}
      {{ end }}

      {{ with NodePort }}
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ . }}
      {{ end }}

      allocatable:
      {{ with .status.allocatable }}
      {{ YAML . 1 }}
      {{ else }}
        cpu: 1k
        memory: 1Ti
        pods: 1M
      {{ end }}
      capacity:
      {{ with .status.capacity }}
      {{ YAML . 1 }}
      {{ else }}
        cpu: 1k
        memory: 1Ti
        pods: 1M
      {{ end }}

      {{ $nodeInfo := .status.nodeInfo }}
      {{ $kwokVersion := printf "kwok-%s" Version }}
      nodeInfo:
        architecture: {{ or $nodeInfo.architecture "amd64" }}
        bootID: {{ or $nodeInfo.bootID `""` }}
        containerRuntimeVersion: {{ or $nodeInfo.containerRuntimeVersion $kwokVersion }}
        kernelVersion: {{ or $nodeInfo.kernelVersion $kwokVersion }}
        kubeProxyVersion: {{ or $nodeInfo.kubeProxyVersion $kwokVersion }}
        kubeletVersion: {{ or $nodeInfo.kubeletVersion $kwokVersion }}
        machineID: {{ or $nodeInfo.machineID `""` }}
        operatingSystem: {{ or $nodeInfo.operatingSystem "linux" }}
        osImage: {{ or $nodeInfo.osImage `""` }}
        systemUUID: {{ or $nodeInfo.systemUUID `""` }}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-heartbeat-with-lease
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values:
      - 'True'
  delay:
    durationMilliseconds: 600000
    jitterDurationMilliseconds: 610000
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}

      addresses:
      {{ with .status.addresses }}
      {{ YAML . 1 }}
      {{ else }}
      {{ with NodeIP }}
      - address: {{ . | Quote }}
        type: InternalIP
      {{ end }}
      {{ with NodeName }}
      - address: {{ . | Quote }}
        type: Hostname
      {{ end }}
      {{ end }}

      {{ with NodePort }}
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ . }}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values:
      - 'True'
  next:
    statusTemplate: |
      {{ $now := Now }}

      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      {{ range .spec.readinessGates }}
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: {{ .conditionType | Quote }}
      {{ end }}

      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}

      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        {{ if eq .restartPolicy "Always" }}
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}
        {{ else }}
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
        {{ end }}
      {{ end }}
      {{ $hostIPs := NodeIPsWith .spec.nodeName }}
      {{ with $hostIPs }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false )
           ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values:
      - 'Job'
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $origin := index $root.status.containerStatuses $index }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    delete: true
"""


# --------------------------------------------------------------------------------------
# Certificates (generated locally; nothing leaves state_dir/pki)
# --------------------------------------------------------------------------------------


def generate_pki(pki_dir: Path) -> None:
    """Write the CAs (cluster, front proxy), serving and client certs, the SA key pair."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pki_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(hours=1)
    not_after = now + dt.timedelta(days=3650)

    def write_key(stem: str, key: ec.EllipticCurvePrivateKey) -> None:
        path = pki_dir / f"{stem}.key"
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)

    def name(cn: str, orgs: Sequence[str] = ()) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
        return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def make_ca(stem: str, cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = name(cn)
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        write_key(stem, ca_key)
        (pki_dir / f"{stem}.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        return ca_key, ca_name

    ca = make_ca("ca", f"{CLUSTER_NAME}-ca")
    # Separate CA for the aggregation layer's front proxy, as kubeadm does.
    front_proxy_ca = make_ca("front-proxy-ca", f"{CLUSTER_NAME}-front-proxy-ca")

    def issue(
        stem: str,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        sans: list[x509.GeneralName] | None = None,
        signer: tuple[ec.EllipticCurvePrivateKey, x509.Name] = ca,
    ) -> None:
        ca_key, ca_name = signer
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        write_key(stem, key)
        (pki_dir / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    dns, ips = apiserver_sans()
    issue(
        "apiserver",
        name("kube-apiserver"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [*(x509.DNSName(d) for d in dns), *(x509.IPAddress(ipaddress.ip_address(i)) for i in ips)],
    )
    for stem, (cn, orgs) in CLIENT_CERTS.items():
        issue(stem, name(cn, orgs), ExtendedKeyUsageOID.CLIENT_AUTH)
    issue(
        "front-proxy-client",
        name(FRONT_PROXY_CLIENT),
        ExtendedKeyUsageOID.CLIENT_AUTH,
        signer=front_proxy_ca,
    )

    sa_key = ec.generate_private_key(ec.SECP256R1())
    write_key("sa", sa_key)
    (pki_dir / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------

#: Processes this Python process started, so they can be reaped (no zombies, no
#: ResourceWarning). Processes started by another process are found by pid file.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcessRecord:
    """A pid and the kernel start time of that process (guards against pid reuse)."""

    pid: int
    start_time: int

    def render(self) -> str:
        """Text of a pid file."""
        return f"{self.pid} {self.start_time}\n"

    @classmethod
    def parse(cls, text: str) -> ProcessRecord:
        """Inverse of render()."""
        pid, start = text.split()
        return cls(int(pid), int(start))


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of a process from /proc, or None if there is none."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def process_alive(rec: ProcessRecord) -> bool:
    """True if the recorded process still runs (zombies count as gone)."""
    _reap(rec.pid)
    stat = _proc_stat(rec.pid)
    return stat is not None and stat[1] == rec.start_time and stat[0] not in ("Z", "X")


def _spawn(name: str, argv: list[str], cfg: ClusterConfig) -> ProcessRecord:
    """Start one component detached (own session), logging to logs/<name>.log."""
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with (cfg.log_dir / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cfg.state_dir,
            env=component_env(name, cfg, os.environ),
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    stat = _proc_stat(proc.pid)
    rec = ProcessRecord(proc.pid, stat[1] if stat else 0)
    (cfg.run_dir / f"{name}.pid").write_text(rec.render())
    return rec


def read_records(state_dir: Path) -> dict[str, ProcessRecord]:
    """The pid files of a state dir, keyed by component."""
    records: dict[str, ProcessRecord] = {}
    run_dir = state_dir / "run"
    for name in COMPONENTS:
        path = run_dir / f"{name}.pid"
        with contextlib.suppress(FileNotFoundError, ValueError):
            records[name] = ProcessRecord.parse(path.read_text())
    return records


def component_status(state_dir: Path) -> dict[str, bool]:
    """Whether each component of the cluster in state_dir is running."""
    records = read_records(state_dir)
    return {name: name in records and process_alive(records[name]) for name in COMPONENTS}


def is_running(state_dir: Path) -> bool:
    """True if every component of the cluster in state_dir is running."""
    return all(component_status(Path(state_dir)).values())


def log_tail(state_dir: Path, name: str, lines: int = 25) -> str:
    """The last lines of a component's log, for error messages."""
    path = state_dir / "logs" / f"{name}.log"
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------------------
# Talking to the cluster (stdlib only: start() must not need the kubernetes package)
# --------------------------------------------------------------------------------------


class _Api:
    """A minimal HTTPS client authenticated with the admin client certificate."""

    def __init__(self, cfg: ClusterConfig) -> None:
        ctx = ssl.create_default_context(cafile=str(cfg.pki_dir / "ca.crt"))
        ctx.load_cert_chain(str(cfg.pki_dir / "admin.crt"), str(cfg.pki_dir / "admin.key"))
        # No proxies: the server is on loopback.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx)
        )
        self._server = cfg.server

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 5
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self._server + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return int(resp.status), bytes(resp.read())
        except urllib.error.HTTPError as err:
            return int(err.code), bytes(err.read())

    def get_json(self, path: str) -> dict[str, Any] | None:
        status, body = self.request("GET", path)
        if status != 200:
            return None
        result: dict[str, Any] = json.loads(body)
        return result


def node_ready(node: Mapping[str, Any]) -> bool:
    """True if a Node object has condition Ready=True."""
    conditions = node.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _wait_for(
    what: str,
    check: Callable[[], bool],
    cfg: ClusterConfig,
    deadline: float,
    components: Sequence[str],
) -> None:
    """Poll check() until it is true; fail early if a component died."""
    last_error = ""
    while True:
        try:
            if check():
                return
        except (OSError, ValueError, ssl.SSLError) as err:
            last_error = f" (last error: {err})"
        status = component_status(cfg.state_dir)
        dead = [c for c in components if not status[c]]
        if dead:
            tails = "\n".join(
                f"--- {c} (log {cfg.log_dir / (c + '.log')}) ---\n{log_tail(cfg.state_dir, c)}"
                for c in dead
            )
            raise LocalClusterError(f"{', '.join(dead)} exited while waiting for {what}:\n{tails}")
        if time.monotonic() > deadline:
            raise LocalClusterError(
                f"timed out waiting for {what}{last_error}; logs are in {cfg.log_dir}"
            )
        time.sleep(0.5)


# --------------------------------------------------------------------------------------
# start / stop
# --------------------------------------------------------------------------------------


def check_binaries(bin_dir: Path) -> None:
    """Raise LocalClusterError naming the fix if a binary is missing from bin_dir."""
    missing = [b for b in REQUIRED_BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        raise LocalClusterError(
            f"missing in {bin_dir}: {', '.join(missing)}. Fix: run {KUBE_TOOLS_SCRIPT} "
            "(it prints the bin dir on its last line) and pass that directory."
        )


def _write_yaml(path: Path, data: Any, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(mode)


def prepare_state(cfg: ClusterConfig) -> str:
    """Write PKI, kubeconfigs and kwok stages into state_dir; return the admin kubeconfig."""
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    (cfg.state_dir / STATE_MARKER).write_text("state of a local simulated cluster\n")
    (cfg.state_dir / "cluster.json").write_text(cfg.to_json())
    generate_pki(cfg.pki_dir)
    for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
        _write_yaml(
            cfg.kubeconfig_dir / f"{name}.kubeconfig",
            component_kubeconfig_dict(cfg.server, cfg.pki_dir, name),
        )
    kwok_dir = cfg.state_dir / "kwok"
    kwok_dir.mkdir(parents=True, exist_ok=True)
    (kwok_dir / "stages.yaml").write_text(KWOK_STAGES_YAML)
    pki = cfg.pki_dir
    kubeconfig = yaml.safe_dump(
        kubeconfig_dict(
            cfg.server,
            (pki / "ca.crt").read_text(),
            (pki / "admin.crt").read_text(),
            (pki / "admin.key").read_text(),
        ),
        sort_keys=False,
    )
    cfg.admin_kubeconfig.write_text(kubeconfig)
    cfg.admin_kubeconfig.chmod(0o600)
    return kubeconfig


def new_config(
    state_dir: Path,
    bin_dir: Path,
    api_port: int | None = None,
    nodes: Sequence[str] = DEFAULT_NODES,
) -> ClusterConfig:
    """A config with free loopback ports (api_port fixed if given)."""
    return ClusterConfig(
        state_dir=state_dir.resolve(),
        bin_dir=bin_dir.resolve(),
        api_port=api_port or free_port(),
        etcd_client_port=free_port(),
        etcd_peer_port=free_port(),
        controller_manager_port=free_port(),
        scheduler_port=free_port(),
        nodes=tuple(nodes),
    )


def _converge(cfg: ClusterConfig, deadline: float) -> None:
    """Wait for /readyz, create the fake nodes, wait until they are Ready and the
    `default` ServiceAccount exists. Safe to repeat on a running cluster."""
    api = _Api(cfg)
    _wait_for(
        "kube-apiserver /readyz",
        lambda: api.request("GET", "/readyz")[0] == 200,
        cfg,
        deadline,
        ["etcd", "kube-apiserver"],
    )
    for node in cfg.nodes:
        status, body = api.request("POST", "/api/v1/nodes", node_manifest(node))
        if status not in (201, 409):
            raise LocalClusterError(f"creating node {node}: HTTP {status}: {body[:500]!r}")

    def nodes_ready() -> bool:
        listing = api.get_json("/api/v1/nodes")
        items = listing.get("items", []) if listing else []
        ready = {n["metadata"]["name"] for n in items if node_ready(n)}
        return set(cfg.nodes) <= ready

    _wait_for("all nodes Ready", nodes_ready, cfg, deadline, COMPONENTS)
    for index in range(LOCAL_VOLUMES):
        volume = volume_manifest(index, cfg.state_dir)
        status, body = api.request("POST", "/api/v1/persistentvolumes", volume)
        if status not in (201, 409):
            raise LocalClusterError(f"creating volume {index}: HTTP {status}: {body[:500]!r}")
    _wait_for(
        "the default ServiceAccount",
        lambda: api.get_json("/api/v1/namespaces/default/serviceaccounts/default") is not None,
        cfg,
        deadline,
        COMPONENTS,
    )


def start(
    state_dir: Path,
    bin_dir: Path,
    *,
    api_port: int | None = None,
    nodes: Sequence[str] = DEFAULT_NODES,
    timeout: float = 180.0,
) -> str:
    """Start the cluster in state_dir and return an admin kubeconfig (YAML, embedded certs).

    Idempotent: if the cluster in state_dir runs, it is brought to the same ready state
    (e.g. after a start killed half-way) and its kubeconfig returned; leftovers of a dead
    one are cleaned up first. Must run inside the loopback-only netns. Returns once
    /readyz is ok, every node is Ready and the `default` ServiceAccount exists.
    """
    check_loopback_only()
    state_dir = Path(state_dir).resolve()
    bin_dir = Path(bin_dir).resolve()
    check_binaries(bin_dir)
    deadline = time.monotonic() + timeout
    if state_dir.exists():
        running = load_config(state_dir)
        kubeconfig_path = state_dir / "kubeconfig"
        if running is not None and kubeconfig_path.exists() and is_running(state_dir):
            _converge(running, deadline)
            return kubeconfig_path.read_text()
        stop(state_dir)

    cfg = new_config(state_dir, bin_dir, api_port, nodes)
    kubeconfig = prepare_state(cfg)
    commands = component_commands(cfg)
    try:
        _spawn("etcd", commands["etcd"], cfg)
        etcd_health = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def etcd_ok() -> bool:
            url = f"http://127.0.0.1:{cfg.etcd_client_port}/health"
            with etcd_health.open(url, timeout=2) as resp:
                return bool(json.loads(resp.read()).get("health") == "true")

        _wait_for("etcd /health", etcd_ok, cfg, deadline, ["etcd"])
        _spawn("kube-apiserver", commands["kube-apiserver"], cfg)
        # The controller-manager gives up if the apiserver is not healthy soon enough.
        api = _Api(cfg)
        _wait_for(
            "kube-apiserver /readyz",
            lambda: api.request("GET", "/readyz")[0] == 200,
            cfg,
            deadline,
            ["etcd", "kube-apiserver"],
        )
        for name in COMPONENTS[2:]:
            _spawn(name, commands[name], cfg)
        _converge(cfg, deadline)
    except BaseException:
        _kill_all(cfg.state_dir)
        raise
    return kubeconfig


def _terminate(rec: ProcessRecord, grace: float) -> bool:
    """SIGTERM a component's process group, SIGKILL it after grace; True if it is gone."""

    def send(sig: signal.Signals) -> None:
        if process_alive(rec):
            # Each component leads its own session and process group (start_new_session).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(rec.pid, sig)
            with contextlib.suppress(ProcessLookupError):
                os.kill(rec.pid, sig)

    def wait_gone(seconds: float) -> bool:
        end = time.monotonic() + seconds
        while process_alive(rec):
            if time.monotonic() > end:
                return False
            time.sleep(0.05)
        return True

    send(signal.SIGTERM)
    if wait_gone(grace):
        return True
    send(signal.SIGKILL)
    return wait_gone(10.0)


def _kill_all(state_dir: Path, grace: float = 15.0) -> list[str]:
    """Stop every component, dependents first; return the ones still alive after that.

    One at a time in reverse start order: kube-apiserver shuts down in well under a
    second while etcd is up, but can hang until SIGKILL when etcd goes first.
    """
    records = read_records(state_dir)
    return [
        name
        for name in reversed(COMPONENTS)
        if name in records and not _terminate(records[name], grace)
    ]


def stop(state_dir: Path) -> None:
    """Stop the cluster in state_dir, wait until its processes are gone, remove the state.

    A missing state_dir is not an error. A directory without the local-cluster marker is
    left alone (LocalClusterError), so a wrong path never gets deleted.
    """
    state_dir = Path(state_dir).resolve()
    if not state_dir.exists():
        return
    if not (state_dir / STATE_MARKER).exists():
        if any(state_dir.iterdir()):
            raise LocalClusterError(
                f"{state_dir} is not a local-cluster state dir (no {STATE_MARKER}); not deleting it"
            )
        state_dir.rmdir()
        return
    alive = _kill_all(state_dir)
    if alive:
        raise LocalClusterError(
            f"could not stop {', '.join(alive)} of the local cluster in {state_dir}"
        )
    shutil.rmtree(state_dir)


def load_config(state_dir: Path) -> ClusterConfig | None:
    """The config of the cluster in state_dir, if there is one."""
    try:
        return ClusterConfig.from_json((Path(state_dir) / "cluster.json").read_text())
    except (FileNotFoundError, ValueError, KeyError):
        return None


# --------------------------------------------------------------------------------------
# Pulumi dynamic provider
# --------------------------------------------------------------------------------------


def _resource_id(state_dir: str) -> str:
    digest = hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:12]
    return f"local-cluster-{digest}"


def _outs(props: Mapping[str, Any], kubeconfig: str, running: bool) -> dict[str, Any]:
    return {
        "state_dir": props["state_dir"],
        "bin_dir": props["bin_dir"],
        "api_port": props.get("api_port"),
        "kubeconfig": kubeconfig,
        "running": running,
    }


class LocalClusterProvider(pulumi.dynamic.ResourceProvider):
    """Creates, reads and deletes a local simulated cluster (see start() and stop())."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Start the cluster; the kubeconfig output is marked secret by LocalCluster."""
        from infra.local_cluster import start

        port = props.get("api_port")
        kubeconfig = start(
            Path(props["state_dir"]), Path(props["bin_dir"]), api_port=int(port) if port else None
        )
        return pulumi.dynamic.CreateResult(
            _resource_id(props["state_dir"]), _outs(props, kubeconfig, True)
        )

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Report whether the processes still run; drop the resource if its state is gone."""
        from infra.local_cluster import is_running

        state_dir = Path(props.get("state_dir", ""))
        kubeconfig_path = state_dir / "kubeconfig"
        if not props.get("state_dir") or not kubeconfig_path.exists():
            # No state: the cluster is gone, a later `up` creates it again.
            return pulumi.dynamic.ReadResult("", {})
        running = is_running(state_dir)
        return pulumi.dynamic.ReadResult(id_, _outs(props, kubeconfig_path.read_text(), running))

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Replace when an input changed or the processes died (checked live)."""
        from infra.local_cluster import is_running

        replaces = [k for k in ("state_dir", "bin_dir", "api_port") if _olds.get(k) != _news.get(k)]
        if not replaces and not is_running(Path(_olds["state_dir"])):
            replaces = ["state_dir"]
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces), replaces=replaces, delete_before_replace=True
        )

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Stop the cluster and remove its state."""
        from infra.local_cluster import stop

        stop(Path(_props["state_dir"]))


@dataclass
class LocalClusterArgs:
    """Inputs of LocalCluster."""

    state_dir: pulumi.Input[str]
    bin_dir: pulumi.Input[str]
    api_port: pulumi.Input[int] | None = field(default=None)


class LocalCluster(pulumi.dynamic.Resource, module="kubeflow", name="LocalCluster"):
    """A simulated Kubernetes cluster on this machine (run pulumi via scripts/netns.sh).

    ``kubeconfig`` is a secret output; feed it to a ``pulumi_kubernetes.Provider``.
    """

    kubeconfig: pulumi.Output[str]
    state_dir: pulumi.Output[str]
    bin_dir: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        args: LocalClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        defaults = pulumi.ResourceOptions(
            additional_secret_outputs=["kubeconfig"],
            # The same state_dir (and ports) may be reused: stop the old one first.
            delete_before_replace=True,
            custom_timeouts=pulumi.CustomTimeouts(create="10m", delete="5m"),
        )
        super().__init__(
            LocalClusterProvider(),
            resource_name,
            {
                "state_dir": args.state_dir,
                "bin_dir": args.bin_dir,
                "api_port": args.api_port,
                "kubeconfig": None,
                "running": None,
            },
            pulumi.ResourceOptions.merge(defaults, opts),
        )
