"""cert-manager: issues the webhook certificates of KServe (and of Kubeflow components that
use it), so it is installed before them.

Upstream: the release file `cert-manager.yaml` of cert-manager/cert-manager (CRDs, controller,
cainjector, webhook), as `kubectl apply -f .../releases/download/v1.19.4/cert-manager.yaml`.
A manifest mirror holds kubeflow/manifests' vendored copy of that file, which adds only the
namespace label `pod-security.kubernetes.io/enforce: restricted`.

Kubeflow's own manifests reference a self-signing ClusterIssuer,
`kubeflow-self-signing-issuer` (kubeflow/manifests `common/cert-manager` overlay); the
component creates it once the webhook that admits it is serving.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import KubeObject, ManifestPart, github_release_file
from components.objects import api_group
from components.transforms import Transform
from components.validation import flag_errors

CERT_MANAGER_REPO = "cert-manager/cert-manager"
CERT_MANAGER_NAMESPACE = "cert-manager"
KUBEFLOW_ISSUER = "kubeflow-self-signing-issuer"
INJECT_ANNOTATIONS = ("cert-manager.io/inject-ca-from", "cert-manager.io/inject-ca-from-secret")
"""cainjector annotations whose value is `<namespace>/<Certificate or Secret>`."""


def cert_manager_parts(tag: str) -> tuple[ManifestPart, ...]:
    """The release file of `tag`: one part, CRDs and controllers together."""
    release_file = github_release_file(CERT_MANAGER_REPO, tag, "cert-manager.yaml")
    return (ManifestPart("cert-manager", release_file, "file", "cert-manager.yaml"),)


CERT_MANAGER_VERSIONS = {tag: cert_manager_parts(tag) for tag in ("v1.19.4", "v1.20.2")}


def kubeflow_issuer() -> KubeObject:
    """The self-signing ClusterIssuer Kubeflow's manifests name in their Certificates."""
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": KUBEFLOW_ISSUER},
        "spec": {"selfSigned": {}},
    }


def follow_namespace(old: str, new: str) -> Transform:
    """Keep cert-manager references right when objects move from `old` to `new`.

    `set_namespace` moves the objects; this rewrites what it cannot know: cainjector
    annotations (`<ns>/<name>`) and the `<service>.<ns>.svc` names a Certificate is issued for.
    """
    service_dns = re.compile(rf"^([a-z0-9-]+)\.{re.escape(old)}(\.svc(\.cluster\.local)?)$")

    def rename(dns_name: str) -> str:
        return service_dns.sub(rf"\g<1>.{new}\g<2>", dns_name)

    def apply(obj: KubeObject) -> KubeObject:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        is_certificate = obj["kind"] == "Certificate" and api_group(obj) == "cert-manager.io"
        if old == new or not (is_certificate or set(annotations) & set(INJECT_ANNOTATIONS)):
            return obj
        obj = copy.deepcopy(obj)
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        for key in INJECT_ANNOTATIONS:
            namespace, slash, name = str(annotations.get(key, "")).partition("/")
            if slash and namespace == old:
                annotations[key] = f"{new}/{name}"
        spec = obj.get("spec") or {}
        if is_certificate and "commonName" in spec:
            spec["commonName"] = rename(spec["commonName"])
        if is_certificate and "dnsNames" in spec:
            spec["dnsNames"] = [rename(n) for n in spec["dnsNames"]]
        return obj

    return apply


@dataclass
class CertManagerArgs(ComponentArgs):
    """Settings of a cert-manager install; the defaults install v1.19.4 into `cert-manager`
    with the Kubeflow ClusterIssuer."""

    kubeflow_issuer: bool = True
    """Create the self-signing ClusterIssuer `kubeflow-self-signing-issuer` that Kubeflow's
    manifests issue certificates from; turn off when you bring your own issuers."""


class CertManager(KubeflowComponent):
    """cert-manager (controller, cainjector, webhook) and the Kubeflow ClusterIssuer."""

    COMPONENT = "cert-manager"
    TYPE = "kubeflow:components:CertManager"
    DEFAULT_VERSION = "v1.19.4"
    UPSTREAM_NAMESPACE = CERT_MANAGER_NAMESPACE
    VERSIONS = CERT_MANAGER_VERSIONS

    args: CertManagerArgs
    cluster_issuer: pulumi.Output[str | None]
    """Name of the Kubeflow ClusterIssuer; None when `kubeflow_issuer` is off."""

    def __init__(
        self,
        name: str,
        args: CertManagerArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or CertManagerArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """`kubeflow_issuer` must be true or false (a stack file may hold the string "false")."""
        if not isinstance(args, CertManagerArgs):
            return []
        return flag_errors("cert-manager", {"kubeflowIssuer": args.kubeflow_issuer})

    def extra_transforms(self) -> list[Transform]:
        """The webhook configurations' CA annotations follow a namespace change."""
        return [follow_namespace(CERT_MANAGER_NAMESPACE, self.resolved_namespace)]

    def final_objects(self) -> list[KubeObject]:
        """The Kubeflow ClusterIssuer, after the webhook Deployment is Available."""
        return [kubeflow_issuer()] if self.args.kubeflow_issuer else []

    def component_outputs(self) -> dict[str, Any]:
        """Adds the ClusterIssuer name to the common outputs."""
        issuer = KUBEFLOW_ISSUER if self.args.kubeflow_issuer else None
        self.cluster_issuer = pulumi.Output.from_input(issuer)
        return {**super().component_outputs(), "cluster_issuer": self.cluster_issuer}
