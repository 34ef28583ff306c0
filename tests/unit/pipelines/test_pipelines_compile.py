"""Compiled pipeline specs: what a KFP server will be given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.__main__ import main
from pipelines.catalog import EXAMPLES, compiled_text, get_example
from pipelines.pins import BASE_IMAGE, SCIKIT_LEARN


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("compiled")
    assert main(["compile", "--out", str(out)]) == 0
    return {
        key: yaml.safe_load((out / example.file_name).read_text())
        for key, example in EXAMPLES.items()
    }


def param_types(definitions: dict[str, Any]) -> dict[str, str]:
    return {k: v["parameterType"] for k, v in definitions.get("parameters", {}).items()}


def artifact_types(definitions: dict[str, Any]) -> dict[str, str]:
    return {
        k: v["artifactType"]["schemaTitle"] for k, v in definitions.get("artifacts", {}).items()
    }


def test_compile_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--out", str(tmp_path / "out")]) == 0

    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "hello_pipeline.yaml",
        "iris_pipeline.yaml",
    ]
    assert capsys.readouterr().out.count("wrote ") == 2


def test_hello_spec_has_the_name_parameter_and_a_string_output(
    compiled: dict[str, dict[str, Any]],
) -> None:
    spec = compiled["hello"]

    assert spec["pipelineInfo"]["name"] == "hello-pipeline"
    assert set(spec["components"]) == {"comp-say-hello"}
    assert param_types(spec["root"]["inputDefinitions"]) == {"name": "STRING"}
    assert spec["root"]["inputDefinitions"]["parameters"]["name"]["defaultValue"] == "World"
    assert param_types(spec["root"]["outputDefinitions"]) == {"Output": "STRING"}
    [executor] = spec["deploymentSpec"]["executors"].values()
    assert executor["container"]["image"] == BASE_IMAGE


def test_iris_spec_chains_load_data_into_train_model(compiled: dict[str, dict[str, Any]]) -> None:
    spec = compiled["iris"]
    load, train = spec["components"]["comp-load-data"], spec["components"]["comp-train-model"]
    tasks = spec["root"]["dag"]["tasks"]

    assert spec["pipelineInfo"]["name"] == "iris-pipeline"
    assert artifact_types(load["outputDefinitions"]) == {"dataset": "system.Dataset"}
    assert param_types(load["outputDefinitions"]) == {}
    assert artifact_types(train["inputDefinitions"]) == {"dataset": "system.Dataset"}
    assert param_types(train["inputDefinitions"]) == {
        "n_estimators": "NUMBER_INTEGER",
        "seed": "NUMBER_INTEGER",
        "test_size": "NUMBER_DOUBLE",
    }
    assert artifact_types(train["outputDefinitions"]) == {
        "model": "system.Model",
        "metrics": "system.Metrics",
    }
    assert param_types(train["outputDefinitions"]) == {"Output": "NUMBER_DOUBLE"}
    dataset_input = tasks["train-model"]["inputs"]["artifacts"]["dataset"]
    assert dataset_input["taskOutputArtifact"]["producerTask"] == "load-data"
    constants = tasks["train-model"]["inputs"]["parameters"]
    assert constants["n_estimators"]["runtimeValue"]["constant"] == 100
    assert constants["seed"]["runtimeValue"]["constant"] == 42
    assert param_types(spec["root"]["outputDefinitions"]) == {"accuracy": "NUMBER_DOUBLE"}
    assert artifact_types(spec["root"]["outputDefinitions"]) == {"model": "system.Model"}


def test_iris_executors_pin_image_and_packages(compiled: dict[str, dict[str, Any]]) -> None:
    executors = compiled["iris"]["deploymentSpec"]["executors"]

    assert set(executors) == {"exec-load-data", "exec-train-model"}
    for executor in executors.values():
        container = executor["container"]
        assert container["image"] == BASE_IMAGE
        assert f"'{SCIKIT_LEARN}'" in " ".join(container["command"])


def test_compiling_is_deterministic_so_digests_are_stable() -> None:
    """Two compiles, each in a temporary folder of its own, give the same text: no path or
    time is in it (across processes, the local stack's no-op preview in the e2e checks it)."""
    iris = get_example("iris")

    assert compiled_text(iris) == compiled_text(iris)


def test_unknown_example_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="choose one of hello, iris"):
        get_example("mnist")


def test_the_infrastructure_program_imports_the_kfp_sdk_only_to_deploy_pipelines() -> None:
    code = (
        "import sys, infra.config, infra.cluster, infra.kubeflow_platform, pipelines.deploy, "
        "pipelines.catalog\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'kfp', 'kfp_server_api', 'sklearn'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )

    assert done.stdout.strip() == "[]"
