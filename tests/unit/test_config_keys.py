"""Stack config keys: renamed keys (read, with a warning naming both), the keys Pulumi.yaml
declares, and the settings of a component that is not enabled."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.catalog import CATALOG, renamed_settings
from infra.config import KNOWN_KEYS, ConfigError, decode, load_settings
from tests.paths import REPO
from tests.unit.component_helpers import pulumi_warnings
from tests.unit.component_helpers import settings_problems as problems
from tests.unit.mocks import run_stack

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
    for component_id, entry in CATALOG.items():  # each version the code accepts, no other
        listed = re.findall(r"\bv?\d+\.\d+\.\d+\b", declared[component_id]["description"])
        assert sorted(listed) == sorted(entry.cls.VERSIONS), component_id


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


def test_the_settings_of_a_component_that_is_not_enabled_warn_and_install_nothing() -> None:
    raw = {"components": ["pipelines"], "kserve": {"deploymentMode": "Standrd"}}
    settings = load_settings(raw, stack="ci", project_dir=REPO)
    assert list(settings.component_args) == ["pipelines"]
    assert settings.warnings == (
        "kubeflow:kserve is set, but kserve is not in kubeflow:components, so its settings "
        "apply to nothing; fix: add kserve to kubeflow:components to install it, or remove "
        "kubeflow:kserve",
    )
