"""Bad stack settings: a clear error naming key, value and fix, and nothing registered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from components import ComponentArgsError, KubeflowPipelines, MirrorSource, PipelinesArgs
from components.catalog import CATALOG, renamed_settings
from infra.config import KNOWN_KEYS, ConfigError, decode, load_settings
from tests.unit.component_helpers import mirror_install, pulumi_warnings
from tests.unit.mocks import MIRROR, REPO, Recorder, run, run_stack

BAD_SETTINGS = [
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
        {"kubeflow:kindClusterName": "KFP Demo"},
        "kubeflow:kindClusterName = 'KFP Demo' is not a valid kind cluster name",
    ),
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


def problems(raw: Mapping[str, object]) -> list[str]:
    """The problems `load_settings` reports for `raw`, one per line."""
    with pytest.raises(ConfigError) as error:
        load_settings(raw, stack="ci", project_dir=REPO)
    return [line.removeprefix("  - ") for line in str(error.value).splitlines()[1:]]


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


RENAMED = sorted(renamed_settings().items())


def renamed_warning(old: str, new: str, stack: str = "ci") -> str:
    return (
        f"kubeflow:{old} is renamed kubeflow:{new} (the component id); its settings are used "
        f"for now, but kubeflow:{old} will be removed in a later release; fix: rename it to "
        f"kubeflow:{new} in stacks/Pulumi.{stack}.yaml"
    )


def test_pulumi_yaml_declares_every_setting_and_every_renamed_one() -> None:
    declared = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == KNOWN_KEYS | renamed_settings().keys()
    assert set(CATALOG) <= KNOWN_KEYS
    assert RENAMED == [
        ("centralDashboard", "central-dashboard"),
        ("certManager", "cert-manager"),
        ("modelRegistry", "model-registry"),
        ("sparkOperator", "spark-operator"),
        ("trainingOperator", "training-operator"),
    ]
    for old, new in RENAMED:
        assert declared[old]["description"].startswith(f"Deprecated - the old name of {new};")


@pytest.mark.parametrize(("old", "new"), RENAMED)
def test_a_component_s_settings_are_read_under_its_id(old: str, new: str) -> None:
    raw = {"components": [new], new: {"namespace": "renamed-test"}}
    settings = load_settings(raw, stack="ci", project_dir=REPO)
    assert settings.component_args[new].namespace == "renamed-test"
    assert settings.warnings == ()


@pytest.mark.parametrize(("old", "new"), RENAMED)
def test_a_renamed_key_is_still_read_and_warns_naming_both_keys(old: str, new: str) -> None:
    raw = decode({"components": json.dumps([new]), old: json.dumps({"namespace": "renamed-test"})})
    settings = load_settings(raw, stack="ci", project_dir=REPO)
    assert settings.component_args[new].namespace == "renamed-test"
    assert settings.warnings == (renamed_warning(old, new),)


@pytest.mark.parametrize(("old", "new"), RENAMED)
def test_a_renamed_key_set_beside_its_new_key_is_an_error_naming_both(old: str, new: str) -> None:
    raw = {"components": [new], old: {"namespace": "a"}, new: {"namespace": "b"}}
    assert problems(raw) == [
        f"kubeflow:{old} and kubeflow:{new} are both set, and kubeflow:{old} is the old name "
        f"of kubeflow:{new}; fix: move the settings of kubeflow:{old} into kubeflow:{new} and "
        f"remove kubeflow:{old}"
    ]


def test_a_problem_under_a_renamed_key_names_the_new_key_and_the_rename() -> None:
    raw = {"components": ["cert-manager"], "certManager": {"kubeflowIssuer": "yes"}}
    with pytest.raises(ConfigError) as error:
        load_settings(raw, stack="ci", project_dir=REPO)
    lines = str(error.value).splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("  - kubeflow:cert-manager: cert-manager: kubeflowIssuer = 'yes'")
    assert lines[2] == f"warning: {renamed_warning('certManager', 'cert-manager')}"


def test_an_unknown_key_is_still_an_error_listing_the_new_keys_only() -> None:
    (found,) = problems({"components": ["cert-manager"], "certmanager": {"namespace": "a"}})
    assert found.startswith("kubeflow:certmanager is not a setting of this project; fix: ")
    listed = found.partition("use one of ")[2].split(", ")
    assert listed == sorted(KNOWN_KEYS)
    assert "cert-manager" in listed and "certManager" not in listed


def test_the_program_warns_of_a_renamed_key_in_the_stack_and_uses_its_value() -> None:
    overrides = {
        "kubeflow:components": ["model-registry"],
        "kubeflow:modelRegistry": {"namespace": "registry", "createNamespace": True},
    }
    with pulumi_warnings() as warnings:
        recorder = run_stack("ci", overrides)
    assert [w for w in warnings if "renamed" in w] == [
        renamed_warning("modelRegistry", "model-registry")
    ]
    namespaces = recorder.of_type("kubernetes:core/v1:Namespace")
    assert [r.inputs["metadata"]["name"] for r in namespaces] == ["registry"]
