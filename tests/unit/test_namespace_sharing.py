"""Several components in `kubeflow`: one creates the namespace, the others wait for it."""

from __future__ import annotations

import pulumi_kubernetes as k8s
import pytest

from components import (
    CentralDashboardArgs,
    ComponentArgsError,
    KatibArgs,
    MirrorSource,
    ModelRegistry,
    ModelRegistryArgs,
    PipelinesArgs,
    SparkOperatorArgs,
)
from components.args import ComponentArgs
from components.catalog import CATALOG, install_order, share_namespaces
from infra.config import ConfigError, load_settings
from infra.kubeflow_platform import KubeflowPlatform
from tests.paths import MIRROR, REPO
from tests.unit.component_helpers import (
    children_of,
    kube_objects,
    namespace_waits,
    unmade_namespaces,
    waits_beyond,
)
from tests.unit.mocks import Registered, run, run_stack


def creates(args: dict[str, ComponentArgs]) -> dict[str, bool | None]:
    settled, problems = share_namespaces(args)
    assert problems == []
    return {cid: a.create_namespace for cid, a in settled.items()}


def test_the_dashboard_and_registry_come_after_pipelines_whatever_the_listed_order() -> None:
    assert install_order(["model-registry", "central-dashboard", "pipelines"]) == [
        "pipelines",
        "central-dashboard",
        "model-registry",
    ]


def test_the_dashboard_leaves_kubeflow_to_pipelines() -> None:
    assert creates({"central-dashboard": CentralDashboardArgs(), "pipelines": PipelinesArgs()}) == {
        "pipelines": True,
        "central-dashboard": False,
    }


def test_the_dashboard_creates_its_namespace_when_nobody_else_runs_there() -> None:
    assert creates({"central-dashboard": CentralDashboardArgs()}) == {"central-dashboard": True}
    assert creates(
        {"pipelines": PipelinesArgs(namespace="kfp"), "central-dashboard": CentralDashboardArgs()}
    ) == {"pipelines": True, "central-dashboard": True}


def test_explicit_settings_are_kept_and_a_namespace_of_its_own_is_created() -> None:
    assert creates(
        {
            "central-dashboard": CentralDashboardArgs(create_namespace=False),
            "model-registry": ModelRegistryArgs(namespace="registry", create_namespace=True),
            "spark-operator": SparkOperatorArgs(),
        }
    ) == {"central-dashboard": False, "model-registry": True, "spark-operator": True}


@pytest.mark.parametrize(
    "args",
    [
        {
            "pipelines": PipelinesArgs(),
            "central-dashboard": CentralDashboardArgs(create_namespace=True),
        },
        {
            "central-dashboard": CentralDashboardArgs(),
            "model-registry": ModelRegistryArgs(create_namespace=True),
        },
    ],
)
def test_a_second_owner_of_a_namespace_is_a_problem(args: dict[str, ComponentArgs]) -> None:
    _, problems = share_namespaces(args)
    (problem,) = problems
    assert "createNamespace is true, but" in problem
    assert "runs in namespace 'kubeflow' already; fix: unset createNamespace" in problem


def test_the_dashboard_and_registry_wait_only_for_the_namespace_pipelines_creates() -> None:
    def program() -> None:
        KubeflowPlatform(
            "kubeflow",
            {
                "model-registry": ModelRegistryArgs(),
                "central-dashboard": CentralDashboardArgs(),
                "pipelines": PipelinesArgs(),
            },
        )

    recorder = run(program)
    components = {
        r.name: r for r in recorder.registered if r.type.startswith("kubeflow:components")
    }
    # kubeflow comes from the KFP kustomization only
    (namespace,) = [r for r in kube_objects(recorder) if r.inputs["kind"] == "Namespace"]
    assert namespace.inputs["metadata"]["name"] == "kubeflow"
    assert namespace.parent == components["pipelines"].urn
    # Each component waits for the record of installed versions; the later ones' objects in
    # kubeflow wait for that Namespace, and for nothing else of KFP (its Deployments may
    # still be rolling out)
    (record,) = [r.urn for r in recorder.registered if r.name == "kubeflow-versions"]
    assert all(component.dependencies == [record] for component in components.values())
    assert len(children_of(recorder, components["pipelines"])) > 80
    for later in ("central-dashboard", "model-registry"):
        waiting, inside = namespace_waits(recorder, components[later], namespace)
        assert inside and waiting == inside
        assert waits_beyond(recorder, components[later], components["pipelines"], namespace) == []
    # kept (keepData's default): the others' objects in it are deleted one by one
    assert not [r.name for r in kube_objects(recorder) if r.deleted_with]


def test_a_namespace_that_goes_takes_the_built_in_objects_of_the_components_after_it() -> None:
    def program() -> None:
        KubeflowPlatform(
            "kubeflow",
            {
                "central-dashboard": CentralDashboardArgs(keep_data=False),
                "pipelines": PipelinesArgs(keep_data=False),
            },
        )

    recorder = run(program)
    (namespace,) = [r for r in kube_objects(recorder) if r.inputs["kind"] == "Namespace"]
    dashboard = next(r for r in recorder.registered if r.name == "central-dashboard")
    deployment = next(
        r
        for r in kube_objects(recorder)
        if r.parent == dashboard.urn and r.inputs["kind"] == "Deployment"
    )
    assert deployment.inputs["metadata"]["namespace"] == "kubeflow"
    assert deployment.deleted_with == namespace.urn


def test_the_platform_refuses_two_owners() -> None:
    def program() -> None:
        KubeflowPlatform(
            "kubeflow",
            {
                "pipelines": PipelinesArgs(),
                "central-dashboard": CentralDashboardArgs(create_namespace=True),
            },
        )

    with pytest.raises(
        ComponentArgsError, match=r"kubeflow:central-dashboard\.createNamespace is true"
    ):
        run(program)


def test_stack_config_reports_two_owners_and_accepts_a_crds_only_spark_mirror() -> None:
    with pytest.raises(ConfigError, match=r"kubeflow:central-dashboard\.createNamespace is true"):
        load_settings(
            {
                "components": ["central-dashboard", "pipelines"],
                "central-dashboard": {"createNamespace": True},
            },
            stack="unit",
            project_dir=REPO,
        )
    settings = load_settings(
        {
            "components": ["spark-operator", "central-dashboard", "pipelines"],
            "manifestMirror": "../shared/manifests",
            "spark-operator": {"jobNamespaces": ["default", "spark-jobs"]},
        },
        stack="unit",
        project_dir=REPO,
    )
    assert settings.components == ("spark-operator", "pipelines", "central-dashboard")
    dashboard = settings.component_args["central-dashboard"]
    assert isinstance(dashboard, CentralDashboardArgs) and dashboard.create_namespace is False
    spark = settings.component_args["spark-operator"]
    assert isinstance(spark, SparkOperatorArgs) and spark.job_namespaces == [
        "default",
        "spark-jobs",
    ]


@pytest.mark.usefixtures("kube_bin")  # the local stack
@pytest.mark.parametrize(("stack", "goes_with"), [("local", True), ("ci", False)])
def test_a_rendering_stack_deletes_each_object_so_its_file_goes(
    stack: str, goes_with: bool
) -> None:
    """Render mode writes a file per object and removes it only on that object's delete."""
    recorder = run_stack(stack, {"kubeflow:components": ["pipelines"], "kubeflow:keepData": False})
    deployments = [r for r in kube_objects(recorder) if r.inputs["kind"] == "Deployment"]
    assert deployments
    assert all(bool(r.deleted_with) == goes_with for r in deployments)


def test_a_programs_own_namespace_is_waited_for_and_takes_nothing_with_it() -> None:
    """A Namespace the program makes itself, passed from Python: the component's objects in
    it wait for it, and, since whether the program keeps it cannot be known, each is deleted
    on its own rather than left to the Namespace's delete."""

    def program() -> None:
        namespace = k8s.core.v1.Namespace("kubeflow", metadata={"name": "kubeflow"})
        args = ModelRegistryArgs(
            source=MirrorSource(MIRROR),
            create_namespace=False,
            keep_data=False,
            shared_namespaces={"kubeflow": namespace},
        )
        ModelRegistry("model-registry", args)

    recorder = run(program)
    (namespace,) = [r for r in recorder.registered if r.type == "kubernetes:core/v1:Namespace"]
    (registry,) = recorder.of_type("kubeflow:components:ModelRegistry")
    waiting, inside = namespace_waits(recorder, registry, namespace)
    assert inside and waiting == inside
    assert [r.name for r in children_of(recorder, registry) if r.deleted_with] == []


def test_a_namespace_another_component_keeps_data_in_stays_whatever_its_creators_keep_data() -> (
    None
):
    """pipelines creates `kubeflow` and keeps none of its own data; Katib keeps its database's
    claim there: deleting the Namespace would delete that claim with it, so the Namespace is
    kept, pipelines' own claims are not, and the objects in it are deleted one by one."""

    def program() -> None:
        KubeflowPlatform(
            "kubeflow",
            {"pipelines": PipelinesArgs(keep_data=False), "katib": KatibArgs()},
        )

    recorder = run(program)
    objects = kube_objects(recorder)
    (namespace,) = [r for r in objects if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.retain_on_delete
    claims = {
        r.inputs["metadata"]["name"]: r.retain_on_delete
        for r in objects
        if r.inputs["kind"] == "PersistentVolumeClaim"
    }
    assert claims == {"mysql-pv-claim": False, "seaweedfs-pvc": False, "katib-mysql": True}
    assert not [r.name for r in objects if r.deleted_with]


@pytest.mark.parametrize("katib_keeps", [False, True])
def test_the_creator_of_a_namespace_keeps_it_when_a_component_there_keeps_data(
    katib_keeps: bool,
) -> None:
    settled, _ = share_namespaces(
        {"pipelines": PipelinesArgs(keep_data=False), "katib": KatibArgs(keep_data=katib_keeps)}
    )
    assert settled["pipelines"].keep_namespace is katib_keeps
    assert settled["katib"].keep_namespace is None  # it creates no namespace
    own = {"pipelines": PipelinesArgs(keep_data=False, keep_namespace=False), "katib": KatibArgs()}
    assert share_namespaces(own)[0]["pipelines"].keep_namespace is False  # set: kept as set


@pytest.mark.parametrize("component_id", CATALOG)
def test_a_component_alone_in_a_stack_creates_every_namespace_it_runs_in(
    component_id: str,
) -> None:
    """Alone but for what it requires: what `up` would otherwise fail on half-way (the Model
    Registry once left `kubeflow` to KFP even when KFP was not in the stack)."""
    components = [*CATALOG[component_id].requires, component_id]
    recorder = run_stack("ci", {"kubeflow:components": components})
    assert kube_objects(recorder)
    assert unmade_namespaces(recorder) == []


@pytest.mark.parametrize("spark_first", [False, True])
def test_a_spark_job_namespace_is_made_once_by_the_first_component_in_it(
    spark_first: bool,
) -> None:
    """Job namespaces: `default` is the cluster's; `kubeflow` is made by whichever of KFP and
    the Spark Operator is installed first, and the other's objects there wait for that
    Namespace only; `spark-jobs` is the Spark Operator's, kept when the stack keeps data and
    otherwise deleted, taking the job objects in it along."""
    components = ["spark-operator", "pipelines"] if spark_first else ["pipelines", "spark-operator"]
    for keep in (True, False):
        recorder = run_stack(
            "ci",
            {
                "kubeflow:components": components,
                "kubeflow:spark-operator": {"jobNamespaces": ["default", "kubeflow", "spark-jobs"]},
                "kubeflow:keepData": str(keep).lower(),
                "kubeflow:renderDir": "build/unit-render",
            },
        )
        assert unmade_namespaces(recorder) == []
        namespaces = {
            r.metadata["name"]: r for r in recorder.of_type("kubernetes:core/v1:Namespace")
        }
        (pipelines,) = recorder.of_type("kubeflow:components:KubeflowPipelines")
        (spark,) = recorder.of_type("kubeflow:components:SparkOperator")
        first, second = (spark, pipelines) if spark_first else (pipelines, spark)
        assert {name: r.parent for name, r in namespaces.items()} == {
            "kubeflow": first.urn,
            "spark-operator": spark.urn,
            "spark-jobs": spark.urn,
        }
        assert waits_beyond(recorder, second, first, namespaces["kubeflow"]) == []
        assert namespaces["spark-jobs"].retain_on_delete is keep


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # the Model Registry alone made kubeflow; KFP, installed before it, makes it now
        (["model-registry"], ["model-registry", "pipelines"]),
        # the Spark Operator listed first made its job namespace kubeflow; listed after KFP,
        # KFP makes it
        (["spark-operator", "pipelines"], ["pipelines", "spark-operator"]),
    ],
)
def test_a_namespace_whose_creator_changes_keeps_its_resource(
    before: list[str], after: list[str]
) -> None:
    """Adding or reordering components moves a namespace to another component: the Namespace
    resource under the new one takes the old one's URN as an alias, so the engine updates
    it instead of creating one and deleting the other (which deletes the live namespace,
    and everything in it, unless the stack keeps data)."""
    spark = {"kubeflow:spark-operator": {"jobNamespaces": ["kubeflow"]}}

    def namespace(components: list[str]) -> Registered:
        recorder = run_stack("ci", {"kubeflow:components": components, **spark})
        (found,) = [
            r
            for r in recorder.of_type("kubernetes:core/v1:Namespace")
            if r.name.endswith(":kubeflow")
        ]
        return found

    old, new = namespace(before), namespace(after)
    assert old.parent != new.parent
    assert old.urn in new.alias_urns
