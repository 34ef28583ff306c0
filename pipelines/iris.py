"""Iris classification: load the data set, train a random forest, report its accuracy.

``load_data`` writes the data set as a CSV ``Dataset`` artifact and ``train_model`` reads only
that artifact: two pods linked through the artifact store, as in a real pipeline.
"""

from typing import NamedTuple

from kfp.dsl import Dataset, Input, Metrics, Model, Output

from pipelines._dsl import component, pipeline
from pipelines.pins import BASE_IMAGE, IRIS_PACKAGES

RANDOM_SEED = 42
N_ESTIMATORS = 100
TEST_SIZE = 0.2


@component(base_image=BASE_IMAGE, packages_to_install=IRIS_PACKAGES)
def load_data(dataset: Output[Dataset]) -> None:
    """Write the 150 iris samples (4 features + species id) as CSV."""
    import csv
    from pathlib import Path

    from sklearn.datasets import load_iris

    iris = load_iris()
    with Path(dataset.path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*iris.feature_names, "species"])
        for features, species in zip(iris.data, iris.target, strict=True):
            writer.writerow([*features.tolist(), int(species)])
    dataset.metadata.update(
        {"rows": len(iris.target), "features": 4, "species": list(iris.target_names)}
    )


@component(base_image=BASE_IMAGE, packages_to_install=IRIS_PACKAGES)
def train_model(
    dataset: Input[Dataset],
    model: Output[Model],
    metrics: Output[Metrics],
    n_estimators: int = 100,
    seed: int = 42,
    test_size: float = 0.2,
) -> float:
    """Fit a random forest on a stratified split; save it, log and return hold-out accuracy."""
    import csv
    from pathlib import Path

    import joblib
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    with Path(dataset.path).open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    features = np.array([[float(v) for v in row[:-1]] for row in rows])
    labels = np.array([int(row[-1]) for row in rows])
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    classifier = RandomForestClassifier(n_estimators=n_estimators, random_state=seed)
    classifier.fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, classifier.predict(x_test)))

    joblib.dump(classifier, model.path)
    model.metadata.update({"framework": "scikit-learn", "format": "joblib"})
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("test_samples", len(y_test))
    print(f"accuracy={accuracy:.4f} on {len(y_test)} held-out samples")
    return accuracy


class IrisOutputs(NamedTuple):
    """What a run of the iris pipeline hands back."""

    accuracy: float
    model: Model


@pipeline(
    name="iris-pipeline",
    description="Loads iris, trains a 100-tree random forest, logs hold-out accuracy.",
)
def iris_pipeline() -> IrisOutputs:
    """Load, then train; the trained model and its accuracy are the pipeline's outputs."""
    data = load_data()
    train = train_model(
        dataset=data.outputs["dataset"],
        n_estimators=N_ESTIMATORS,
        seed=RANDOM_SEED,
        test_size=TEST_SIZE,
    )
    return IrisOutputs(accuracy=train.outputs["Output"], model=train.outputs["model"])
