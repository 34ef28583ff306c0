"""Local runs of the examples with kfp.local (SubprocessRunner, offline pip, no Docker).

Marked integration: each run starts real task subprocesses (seconds each), too slow for
the fast suite's minute.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines.__main__ import main
from pipelines.catalog import EXAMPLES
from pipelines.local import LocalRunError, check_local_pins, run_example

pytestmark = pytest.mark.integration


def test_hello_runs_locally_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--pipeline-root", str(tmp_path), "hello", "--name", "Tagore"])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Output: Hello, Tagore!"


def test_iris_runs_locally_trains_logs_and_saves_a_usable_model(tmp_path: Path) -> None:
    """One run (it takes seconds), every output checked: kept in one test so that
    pytest-xdist cannot split it across workers and run the pipeline twice."""
    import joblib
    from sklearn.datasets import load_iris

    outputs = run_example(EXAMPLES["iris"], tmp_path)

    accuracy, model_path = outputs["accuracy"], Path(outputs["model"].path)
    assert 0.85 <= accuracy <= 1.0

    model = joblib.load(model_path)
    iris = load_iris()
    assert model.n_estimators == 100
    assert set(model.predict(iris.data)) == {0, 1, 2}
    assert (model.predict(iris.data) == iris.target).mean() > 0.9

    executor_output = json.loads((model_path.parent / "executor_output.json").read_text())
    [metrics] = executor_output["artifacts"]["metrics"]["artifacts"]
    assert metrics["metadata"] == {"accuracy": pytest.approx(accuracy), "test_samples": 30}

    with (model_path.parents[1] / "load-data" / "dataset").open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert len(header) == 5 and header[-1] == "species"
    assert len(rows) == 150
    assert {row[-1] for row in rows} == {"0", "1", "2"}


def test_a_pin_missing_from_the_environment_is_named_with_its_fix() -> None:
    with pytest.raises(LocalRunError) as raised:
        check_local_pins(["scikit-learn==0.0.1"])

    assert "pip install 'scikit-learn==0.0.1'" in str(raised.value)


def test_the_cli_reports_a_failed_check_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipelines.local.LOCAL_PINS", ["scikit-learn==0.0.1"])

    code = main(["run", "iris"])

    assert code == 1
    assert capsys.readouterr().err.startswith("error: local runs need scikit-learn==0.0.1")
