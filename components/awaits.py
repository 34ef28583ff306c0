"""What `pulumi up` and `pulumi destroy` wait for, set per object by annotations.

Three of pulumi-kubernetes's defaults do not fit what this project installs, so the last
transforms every component applies change them:

- Services skip the wait (`pulumi.com/skipAwait`): it buys nothing (skip_service_await).
- Deployments with the `Recreate` strategy wait on the rollout as `kubectl rollout status`
  does (`pulumi.com/waitFor`): the provider's own wait can end while the old pods go, before
  the new ones exist (await_recreate_rollout).
- Every object but the workloads is deleted in the background, as `kubectl delete` does
  (`pulumi.com/deletionPropagationPolicy`): foreground deletes of CRDs stalled for minutes
  far more often (delete_in_background).

An annotation a user's transform already set is left as it is.
"""

from __future__ import annotations

import json

from components.manifests import KubeObject
from components.objects import is_patch, is_workload
from components.transforms import with_annotation

SKIP_AWAIT = "pulumi.com/skipAwait"
WAIT_FOR = "pulumi.com/waitFor"
DELETION_PROPAGATION = "pulumi.com/deletionPropagationPolicy"


def _annotations(obj: KubeObject) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def skip_service_await(obj: KubeObject) -> KubeObject:
    """Let `pulumi up` go on once a Service is applied, without the provider's wait on it.

    For a Service with a selector, pulumi-kubernetes waits until its Endpoints have had no
    change for 10 seconds, and then succeeds whether or not any pod serves it; each wait
    holds one of the engine's parallel slots (8 on 2 cores). Whether the pods are there is
    what the Deployment's own wait (Available) checks. A LoadBalancer Service keeps its wait,
    which is for the address the cloud assigns, and so does a Service that already says
    (a user's transform setting `pulumi.com/skipAwait: "false"`).
    """
    if obj.get("kind") != "Service" or obj.get("apiVersion") != "v1":
        return obj
    if (obj.get("spec") or {}).get("type") == "LoadBalancer":
        return obj
    if SKIP_AWAIT in _annotations(obj):
        return obj
    return with_annotation(obj, SKIP_AWAIT, "true")


def await_recreate_rollout(obj: KubeObject) -> KubeObject:
    """Make `pulumi up` wait until a `Recreate` Deployment runs its new pods, and only them.

    When such a Deployment's pod template changes, the Deployment controller first scales
    the old ReplicaSet down and reports the new generation as observed while its status
    still describes the old pods: Available, `NewReplicaSetAvailable`, the old revision
    (kubernetes/kubernetes#115538). The provider's Deployment wait accepts that status, so
    `up` could end with the old pod going and the new one not yet created (seen in the KFP
    upgrade e2e: SeaweedFS unavailable right after `up`). Instead, the provider waits, on
    the observed generation, for `kubectl rollout status`'s test against the replicas the
    stack declares: as many updated, current and available replicas. The object then
    declares `spec.replicas` (1 where upstream leaves it out), so that the number waited
    for is the live one: `up` takes back a `kubectl scale` like any other drift, and the
    component's `replicas` setting is the way to scale. A Deployment scaled to 0 (its
    status then omits those counts), one whose replicas are not a whole number, and one
    with `pulumi.com/skipAwait: "true"` or its own `pulumi.com/waitFor` keep the
    provider's wait or the user's.
    """
    if obj.get("kind") != "Deployment" or obj.get("apiVersion") != "apps/v1":
        return obj
    spec = obj.get("spec") or {}
    replicas = 1 if spec.get("replicas") is None else spec["replicas"]
    if (spec.get("strategy") or {}).get("type") != "Recreate":
        return obj
    if type(replicas) is not int or replicas == 0:
        return obj
    annotations = _annotations(obj)
    if WAIT_FOR in annotations or annotations.get(SKIP_AWAIT) == "true":
        return obj
    counts = ("updatedReplicas", "replicas", "availableReplicas")
    conditions = [f"jsonpath={{.status.{count}}}={replicas}" for count in counts]
    obj = with_annotation(obj, WAIT_FOR, json.dumps(conditions))
    return {**obj, "spec": {**spec, "replicas": replicas}}


def delete_in_background(obj: KubeObject) -> KubeObject:
    """Let `pulumi destroy` delete every object but the workloads in the background, as
    `kubectl delete` does.

    pulumi-kubernetes deletes with foreground propagation unless told otherwise: the API
    server marks the object with the `foregroundDeletion` finalizer, and only the garbage
    collector of kube-controller-manager takes it off, once the object's dependents are
    gone; the collector pauses while it resyncs the kinds of CRDs that are going. Deleting
    the 52 CRDs of the manifest mirror at once on the local cluster with its API server's
    watch caches on (as on every real cluster) stalled for minutes in 5 of 6 rounds in the
    foreground, and in 3 of 14 in the background (docs/local-cluster.md, "No watch caches";
    the stalls themselves came from a watch cache, which the local cluster now runs
    without). A CRD's custom resources go with it either way (the API server deletes them
    before it lets the CRD go), and so do a Namespace's contents (the namespace
    controller), and the provider still waits until the object itself is gone; whatever
    else an object owns, the collector removes after the delete returns. Workloads keep the
    foreground delete: a `destroy` that returns leaves no pod of the stack running. A
    `...Patch` is not an object of its own (its delete takes back fields of another), so it
    gets no annotation that would land on that object; nor does an object that already
    says.
    """
    if is_patch(obj) or is_workload(obj):
        return obj
    if DELETION_PROPAGATION in _annotations(obj):
        return obj
    return with_annotation(obj, DELETION_PROPAGATION, "background")
