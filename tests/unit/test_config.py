"""Bad stack settings: a clear error naming key, value and fix, and nothing registered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components import ComponentArgsError, KubeflowPipelines, MirrorSource, PipelinesArgs
from components.catalog import CATALOG
from infra.config import ConfigError, decode, load_settings
from tests.paths import MIRROR, REPO
from tests.unit.component_helpers import mirror_install
from tests.unit.component_helpers import settings_problems as problems
from tests.unit.mirror_helpers import cached_loads
from tests.unit.mocks import Recorder, run, run_stack


@pytest.fixture(autouse=True, scope="module")
def parsed_once() -> Iterator[None]:
    """The settings checks read every enabled component's manifests: each mirror file is
    parsed once for the module (`cached_loads`), not once per test."""
    with cached_loads():
        yield


BAD_SETTINGS = [
    (  # with the artifacts in S3, SeaweedFS is not installed
        {
            "kubeflow:components": ["cert-manager", "pipelines"],
            "kubeflow:artifactStore": {
                "bucket": "team-kfp-artifacts",
                "region": "eu-west-1",
                "credentialsSecret": "kfp-s3",
            },
            "kubeflow:pipelines": {"replicas": {"seaweedfs": 2}},
        },
        "replicas['seaweedfs'] names no",
    ),
    (
        {"kubeflow:pipelines": {"version": "2.99.0"}},
        "has no kfp/2.99.0 (and '2.99.0' is not a known version: 2.15.0, 2.16.1, 2.17.0)",
    ),
    (
        {"kubeflow:pipelines": {"namespace": "Kubeflow!"}},
        "namespace 'Kubeflow!' is not a valid Kubernetes namespace",
    ),
    (
        {"kubeflow:components": ["pipelines", "jupyterhub"]},
        "'jupyterhub', which is not a component",
    ),
    ({"kubeflow:components": ["pipelines", "pipelines"]}, "lists a component twice"),
    (
        {"kubeflow:manifestMirror": "no/such/folder"},
        "kubeflow:manifestMirror = 'no/such/folder': no such folder",
    ),
    ({"kubeflow:pipelines": {"version": "2.17.0"}}, "has no kfp/2.17.0"),
    (
        {"kubeflow:imageRegistry": "https://registry.example.com"},
        "image registry 'https://registry.example.com' is not a registry reference",
    ),
    ({"kubeflow:cluster": "minikube"}, "kubeflow:cluster = 'minikube' is not a cluster mode"),
    ({"kubeflow:components": "pipelines"}, "kubeflow:components = 'pipelines' must be a list"),
    (
        {"kubeflow:pipelines": {"replicas": {"ml-pipeline": "three"}}},
        "replicas['ml-pipeline'] = 'three' is not a non-negative integer",
    ),
    (
        {"kubeflow:pipelines": {"resources": {"ml-pipeline": {"requests": {"cpu": "lots"}}}}},
        "is not a Kubernetes quantity",
    ),
    (
        {"kubeflow:pipelines": {"versoin": "2.15.0"}},
        "kubeflow:pipelines.versoin is not a setting of pipelines",
    ),
    ({"kubeflow:labels": {"team": "a b"}}, "label team='a b' has an invalid value"),
    ({"kubeflow:replicas": 3}, "kubeflow:replicas is not a setting of this project"),
    (
        {"kubeflow:cluster": "existing", "kubeflow:kubeconfig": "/nonexistent/kubeconfig"},
        "kubeflow:kubeconfig = '/nonexistent/kubeconfig': no such file",
    ),
    (
        {"kubeflow:cluster": "kind", "kubeflow:kindClusterName": "KFP Demo"},
        "kubeflow:kindClusterName = 'KFP Demo' is not a valid kind cluster name",
    ),
    # One spelling per setting: a snake_case key beside the camelCase one would lose to it.
    (
        {"kubeflow:imageRegistry": "global.example", "kubeflow:pipelines": {"image_registry": "t"}},
        "kubeflow:pipelines.image_registry is not how stack config spells the setting; fix: "
        "rename it to imageRegistry",
    ),
    ({"kubeflow:pipelines": {"crd_descriptions": True}}, "rename it to crdDescriptions"),
    ({"kubeflow:kserve": {"DeploymentMode": "Standard"}}, "rename it to deploymentMode"),
    ({"kubeflow:components": [["pipelines"]]}, "lists ['pipelines'], which is not a component"),
    ({"kubeflow:context": "prod"}, "kubeflow:context is a setting of kubeflow:cluster existing"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_SETTINGS)
def test_bad_setting_is_reported_before_any_resource(
    overrides: dict[str, Any], message: str
) -> None:
    recorder = Recorder()
    with pytest.raises(ConfigError) as error:
        run_stack("ci", overrides, recorder=recorder)
    assert message in str(error.value)
    assert "fix:" in str(error.value)
    assert recorder.registered == []


@pytest.mark.parametrize(
    ("mode", "key", "value", "used"),
    [
        ("render", "context", "prod", "existing"),
        ("kind", "kubeconfig", "kc", "existing"),
        ("existing", "kindClusterName", "kfp-demo", "kind"),
        ("local", "renderDir", "out", "render"),
        ("render", "localClusterDir", "state", "local"),
        ("kind", "localCluster", {"delayFactor": 0}, "local"),
    ],
)
def test_a_setting_of_another_cluster_mode_is_an_error(
    mode: str, key: str, value: object, used: str
) -> None:
    assert problems({"cluster": mode, key: value}) == [
        f"kubeflow:{key} is a setting of kubeflow:cluster {used}, and does nothing with "
        f"kubeflow:cluster {mode}; fix: remove kubeflow:{key}, or set kubeflow:cluster to {used}"
    ]


def test_every_problem_is_reported_at_once() -> None:
    raw = decode(
        {"cluster": "nope", "components": '["pipelines", "x"]', "pipelines": '{"version": "1"}'}
    )
    with pytest.raises(ConfigError) as error:
        load_settings(raw, stack="ci", project_dir=REPO)
    assert str(error.value).count("\n  - ") == 3


def test_settings_resolve_relative_paths_and_merge_global_settings() -> None:
    raw = decode(
        {
            "cluster": "render",
            "manifestMirror": "../shared/manifests",
            "imageRegistry": "registry.example.com/m",
            "labels": '{"team": "ml"}',
            "pipelines": '{"labels": {"tier": "core"}, "replicas": {"ml-pipeline": 2}}',
        }
    )
    settings = load_settings(raw, stack="ci", project_dir=REPO)
    args = settings.component_args["pipelines"]
    assert settings.cluster.render_dir == REPO / "build" / "manifests" / "ci"
    assert args.image_registry == "registry.example.com/m"
    assert dict(args.labels) == {"team": "ml", "tier": "core"}
    assert dict(args.replicas) == {"ml-pipeline": 2}
    # Relative paths resolve against the project folder (symlinks followed, as config does).
    mirror = (REPO.parent / "shared" / "manifests").resolve()
    assert isinstance(args.source, MirrorSource) and args.source.root == mirror


def mirror_settings(pipelines: dict[str, object], **raw: object) -> dict[str, object]:
    """Decoded config of a render stack with KFP from the mirror and `pipelines` settings."""
    return {
        "cluster": "render",
        "manifestMirror": str(MIRROR),
        "components": ["pipelines"],
        "pipelines": pipelines,
        **raw,
    }


@pytest.mark.parametrize(
    ("setting", "kinds"),
    [
        ({"replicas": {"ml-pipline": 2}}, "Deployment/StatefulSet"),
        ({"resources": {"ml-pipline": {"requests": {"cpu": "1"}}}}, "workload"),
    ],
)
def test_a_workload_name_that_matches_nothing_is_an_error_listing_the_valid_names(
    setting: dict[str, Any], kinds: str
) -> None:
    recorder = Recorder()
    with pytest.raises(ConfigError) as error:
        run_stack("ci", {"kubeflow:pipelines": {"version": "2.15.0", **setting}}, recorder)
    (problem,) = [p for p in str(error.value).splitlines() if "ml-pipline" in p]
    key = next(iter(setting))
    assert problem.startswith("  - kubeflow:pipelines: ")
    assert f"{key}['ml-pipline'] names no {kinds} that " in problem
    assert "did you mean 'ml-pipeline'?" in problem
    assert "ml-pipeline-ui" in problem and "workflow-controller" in problem
    assert recorder.registered == []


def test_workload_names_are_checked_for_components_built_from_python() -> None:
    args = PipelinesArgs(source=MirrorSource(MIRROR), replicas={"ml-pipeline": 2, "api": 3})
    recorder = Recorder()
    with pytest.raises(ComponentArgsError, match=r"replicas\['api'\] names no Deployment"):
        run(lambda: KubeflowPipelines("kfp", args), recorder=recorder)
    assert recorder.registered == []


@pytest.mark.parametrize("quantity", [".5", "1e3", "1Pi", "500m", "1.5Gi", "2", 2, 0.5, "0"])
def test_every_quantity_the_api_accepts_is_accepted(quantity: str | float) -> None:
    requirements = {"requests": {"cpu": quantity, "memory": quantity}}
    raw = mirror_settings({"resources": {"ml-pipeline": requirements}})
    settings = load_settings(raw, stack="ci", project_dir=REPO)
    assert settings.component_args["pipelines"].resources == {"ml-pipeline": requirements}


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        ("-1", "is negative"),
        ("-500m", "is negative"),
        ("lots", "is not a Kubernetes quantity"),
        ("NaN", "is not a Kubernetes quantity"),
        ("1Gb", "is not a Kubernetes quantity"),
        (True, "is not a Kubernetes quantity"),
    ],
)
def test_negative_and_malformed_quantities_are_refused(quantity: str | bool, problem: str) -> None:
    raw = mirror_settings({"resources": {"ml-pipeline": {"requests": {"cpu": quantity}}}})
    (found,) = problems(raw)
    assert f"resources['ml-pipeline'].requests.cpu = {quantity!r} {problem}; fix:" in found


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            {"version": 2.15},
            "kubeflow:pipelines.version = 2.15 must be a string; fix: quote it, e.g. "
            "version: '2.15'",
        ),
        ({"namespace": 7}, "kubeflow:pipelines.namespace = 7 must be a string"),
        ({"replicas": ["ml-pipeline"]}, "kubeflow:pipelines.replicas = ['ml-pipeline'] must be"),
        ({"labels": "team=ml"}, "kubeflow:pipelines.labels = 'team=ml' must be an object"),
        ({"imageRegistry": True}, "kubeflow:pipelines.imageRegistry = True must be a string"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key_and_the_type(
    setting: dict[str, object], message: str
) -> None:
    (found,) = problems(mirror_settings(setting))
    assert found.startswith(message)


def test_a_bad_global_setting_is_reported_once_under_its_own_key() -> None:
    raw = mirror_settings(
        {},
        imageRegistry="https://registry.example.com",
        labels={"team": "a b"},
        components=["pipelines", "katib", "notebooks"],
    )
    found = problems(raw)
    assert len(found) == 2
    assert found[0].startswith(
        "kubeflow:imageRegistry: image registry 'https://registry.example.com' is not"
    )
    assert found[1].startswith("kubeflow:labels: label team='a b' has an invalid value")


def test_problems_of_every_kind_are_reported_together() -> None:
    raw = mirror_settings(
        {
            "version": 2.15,
            "replicas": {"ml-pipline": 2},
            "resources": {"ml-pipeline": {"requests": {"cpu": "-1"}}},
        },
        imageRegistry="not a registry",
    )
    found = problems(raw)
    assert len(found) == 4
    assert [p.split(" ")[0] for p in found] == [
        "kubeflow:imageRegistry:",
        "kubeflow:pipelines.version",
        "kubeflow:pipelines:",
        "kubeflow:pipelines:",
    ]


@pytest.mark.parametrize("component_id", list(CATALOG))
def test_create_namespace_is_a_setting_of_every_component(component_id: str) -> None:
    entry = CATALOG[component_id]
    raw = {
        "cluster": "render",
        "components": [*entry.requires, component_id],
        component_id: {"createNamespace": False},
    }
    settings = load_settings(raw, stack="ci", project_dir=REPO)
    assert settings.component_args[component_id].create_namespace is False
    raw[component_id] = {"createNamespace": "no"}
    found = [p for p in problems(raw) if "createNamespace" in p]
    assert found[0].startswith(
        f"kubeflow:{component_id}.createNamespace = 'no' must be true or false"
    )


@pytest.mark.parametrize("create", [False, True])
@pytest.mark.parametrize("component_id", list(CATALOG))
def test_create_namespace_false_leaves_every_namespace_object_out(
    component_id: str, create: bool
) -> None:
    """Whether upstream ships the Namespace or the component makes it, one rule decides."""
    entry = CATALOG[component_id]
    cls, args = entry.cls, entry.args_cls()
    namespaces = [
        r.inputs["metadata"]["name"]
        for r in mirror_install(cls, create_namespace=create).registered
        if r.type == "kubernetes:core/v1:Namespace"
    ]
    home = args.namespace or cls.upstream_namespace(args)
    assert (home in namespaces) if create else namespaces == []


@pytest.mark.parametrize("component_id", list(CATALOG))
def test_every_component_checks_workload_names_against_its_mirror_objects(
    component_id: str,
) -> None:
    entry = CATALOG[component_id]
    raw = mirror_settings({}, components=[*entry.requires, component_id])
    raw[component_id] = {"replicas": {"no-such-workload": 1}}
    (found,) = [p for p in problems(raw) if "no-such-workload" in p]
    assert found.startswith(f"kubeflow:{component_id}: ")
    valid = found.partition("use one of ")[2].split(", ")
    assert valid and "none" not in valid[0], found


def test_upstream_sources_check_workload_names_against_the_render() -> None:
    """The pinned upstream is rendered (once) before anything is registered, like a mirror
    file is read: a name that matches no workload is an error from either source."""
    recorder = Recorder()
    with pytest.raises(ComponentArgsError, match="did you mean 'ml-pipeline'"):
        run(
            lambda: KubeflowPipelines("kfp", PipelinesArgs(replicas={"ml-pipline": 2})),
            recorder=recorder,
        )
    assert recorder.registered == []
