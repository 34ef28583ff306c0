"""Bad stack settings: a clear error naming key, value and fix, and nothing registered."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, decode, load_settings
from tests.unit.mocks import REPO, run_stack

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
def test_bad_setting_is_reported_before_any_resource(overrides, message):
    registered = []
    with pytest.raises(ConfigError) as error:
        registered = run_stack("ci", overrides).registered
    assert message in str(error.value)
    assert "fix:" in str(error.value)
    assert registered == []


def test_every_problem_is_reported_at_once():
    raw = decode(
        {"cluster": "nope", "components": '["pipelines", "x"]', "pipelines": '{"version": "1"}'}
    )
    with pytest.raises(ConfigError) as error:
        load_settings(raw, stack="ci", project_dir=REPO)
    assert str(error.value).count("\n  - ") == 3


def test_settings_resolve_relative_paths_and_merge_global_settings():
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
    assert args.source is not None and args.source.root == mirror
