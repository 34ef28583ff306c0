"""Distributed training on Kubernetes: the Training Operator v1 or Kubeflow Trainer v2.

`mode: training-operator` (default) installs Training Operator v1 as upstream documents:
`kubectl apply --server-side -k manifests/overlays/standalone?ref=v1.9.2` (PyTorchJob, TFJob,
MPIJob, XGBoostJob, PaddleJob and JAXJob in `kubeflow`; the repository was renamed from
kubeflow/training-operator to kubeflow/trainer, which keeps the v1 tags).

`mode: trainer` installs Kubeflow Trainer v2 the same way upstream's standalone install does:
`manifests/overlays/manager` (CRDs, controller, JobSet) and then `manifests/overlays/runtimes`
(the ClusterTrainingRuntimes, which the manager's webhook admits), in `kubeflow-system`. The
mirror's other trainer renders are not this install: `kubeflow-platform` is the same two plus
profile roles for a full Kubeflow platform and expects `kubeflow` to exist; `data-cache` adds
the optional distributed data cache (LeaderWorkerSet, objects in `default`).

Both have CRDs too large for the client-side last-applied annotation (> 256 KiB): they rely on
the Kubernetes provider's server-side apply, its default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.embedded_images import rehome_embedded_images
from components.manifests import ManifestPart, github_kustomize
from components.transforms import Transform

TRAINER_REPO = "kubeflow/trainer"


@dataclass(frozen=True)
class Mode:
    """What a mode installs: an upstream project with its own versions, folder and namespace."""

    description: str
    default_version: str
    versions: tuple[str, ...]
    mirror_folder: str
    namespace: str


MODES = {
    "training-operator": Mode(
        "Training Operator v1", "v1.9.2", ("v1.9.2",), "training-operator", "kubeflow"
    ),
    "trainer": Mode(
        "Kubeflow Trainer v2", "v2.1.0", ("v2.1.0", "v2.2.0"), "trainer", "kubeflow-system"
    ),
}


def training_operator_parts(ref: str) -> tuple[ManifestPart, ...]:
    """Training Operator v1: the standalone overlay, pinned to `ref`."""
    url = github_kustomize(TRAINER_REPO, "manifests/overlays/standalone", ref)
    return (ManifestPart("standalone", url, "kustomize", "standalone.yaml"),)


def trainer_parts(ref: str) -> tuple[ManifestPart, ...]:
    """Kubeflow Trainer v2: the manager, then the runtimes its webhook validates."""
    return tuple(
        ManifestPart(
            overlay,
            github_kustomize(TRAINER_REPO, f"manifests/overlays/{overlay}", ref),
            "kustomize",
            f"{overlay}.yaml",
        )
        for overlay in ("manager", "runtimes")
    )


TRAINING_VERSIONS = {
    "v1.9.2": training_operator_parts("v1.9.2"),
    "v2.1.0": trainer_parts("v2.1.0"),
    "v2.2.0": trainer_parts("v2.2.0"),
}


@dataclass
class TrainingOperatorArgs(ComponentArgs):
    """Settings of a training install; the defaults install Training Operator v1.9.2 into
    `kubeflow`, creating the namespace unless a component installed before it runs there."""

    mode: str = "training-operator"
    """`training-operator`: Training Operator v1 (versions v1.9.2). `trainer`: Kubeflow Trainer
    v2 with its runtimes (versions v2.1.0, v2.2.0). An unset version is the release's, else
    the mode's default."""


def _mode(args: ComponentArgs) -> Mode | None:
    """The mode of `args`; None when it names none (`check` reports it)."""
    name = getattr(args, "mode", "training-operator")
    return MODES.get(name) if isinstance(name, str) else None


class TrainingOperator(KubeflowComponent):
    """Training Operator v1 or Kubeflow Trainer v2, by `mode`."""

    COMPONENT = "training-operator"
    TYPE = "kubeflow:components:TrainingOperator"
    DEFAULT_VERSION = MODES["training-operator"].default_version
    UPSTREAM_NAMESPACE = MODES["training-operator"].namespace
    VERSIONS = TRAINING_VERSIONS

    args: TrainingOperatorArgs
    mode: pulumi.Output[str]
    """The installed mode (`training-operator` or `trainer`)."""

    def __init__(
        self,
        name: str,
        args: TrainingOperatorArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args or TrainingOperatorArgs(), opts)

    @classmethod
    def check(cls, args: ComponentArgs) -> list[str]:
        """A known mode, and a version of that mode."""
        if not isinstance(args, TrainingOperatorArgs):
            return []
        mode = _mode(args)
        errors: list[str] = []
        if mode is None:
            errors.append(
                f"training-operator: mode {args.mode!r} is not a mode; fix: use one of "
                + ", ".join(f"{name} ({m.description})" for name, m in MODES.items())
            )
        elif args.version in TRAINING_VERSIONS and args.version not in mode.versions:
            other = next(name for name, m in MODES.items() if args.version in m.versions)
            errors.append(
                f"training-operator: version {args.version!r} is a {MODES[other].description} "
                f"version, but mode is {args.mode!r}; fix: set mode: {other}, or a "
                f"{mode.description} version ({', '.join(mode.versions)})"
            )
        return errors

    @classmethod
    def default_version(cls, args: ComponentArgs) -> str:
        """The mode's default version."""
        mode = _mode(args)
        return mode.default_version if mode else cls.DEFAULT_VERSION

    @classmethod
    def upstream_namespace(cls, args: ComponentArgs) -> str | None:
        """`kubeflow` for v1, `kubeflow-system` for Trainer v2."""
        mode = _mode(args)
        return mode.namespace if mode else cls.UPSTREAM_NAMESPACE

    @classmethod
    def mirror_folder(cls, args: ComponentArgs) -> str:
        """`training-operator/` for v1, `trainer/` for Trainer v2."""
        mode = _mode(args)
        return mode.mirror_folder if mode else cls.COMPONENT

    def extra_transforms(self) -> list[Transform]:
        """`image_registry` also moves the images of Trainer's ClusterTrainingRuntimes."""
        registry = self.args.image_registry
        return [rehome_embedded_images(registry)] if registry else []

    def component_outputs(self) -> dict[str, Any]:
        """Adds the mode to the common outputs."""
        self.mode = pulumi.Output.from_input(self.args.mode)
        return {**super().component_outputs(), "mode": self.mode}
