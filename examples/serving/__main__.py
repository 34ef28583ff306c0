"""A custom program: model serving (cert-manager, KServe, Model Registry) composed in Python.

It uses the components directly, with a provider of its own, instead of the stack
config of infra/. Point `kubeconfig` at your cluster, or leave it unset to render
YAML into build/manifests/serving-example (no cluster needed):

    cd examples/serving && pulumi up --stack dev
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components import (
    CertManager,
    CertManagerArgs,
    KServe,
    KServeArgs,
    MirrorSource,
    ModelRegistry,
    ModelRegistryArgs,
)

REPO = Path(__file__).resolve().parents[2]
config = pulumi.Config("serving")
kubeconfig = config.get("kubeconfig")
mirror = config.get("manifestMirror")
source = MirrorSource(Path(mirror).resolve()) if mirror else None

provider = (
    k8s.Provider("serving", kubeconfig=kubeconfig)
    if kubeconfig
    else k8s.Provider(
        "serving", render_yaml_to_directory=str(REPO / "build" / "manifests" / "serving-example")
    )
)
with_provider = pulumi.ResourceOptions(provider=provider)

cert_manager = CertManager("cert-manager", CertManagerArgs(source=source), with_provider)
# KServe's workloads, webhooks and custom resources wait for cert-manager; the rest of it
# installs beside cert-manager.
kserve = KServe(
    "kserve",
    KServeArgs(source=source, deployment_mode="Standard", requires=[cert_manager]),
    with_provider,
)
registry = ModelRegistry(
    "model-registry",
    ModelRegistryArgs(source=source, namespace="model-registry", create_namespace=True),
    with_provider,
)

pulumi.export("kserve_mode", kserve.deployment_mode)
pulumi.export("model_registry", registry.rest_endpoint)
pulumi.export("issuer", cert_manager.cluster_issuer)
