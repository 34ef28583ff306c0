"""Pinned images and packages of the example components.

One place, so the cluster image, the local run and the tests agree on versions: a local
``kfp.local`` run installs ``packages_to_install`` into the running interpreter, so these
pins must match what the project environment already has (see ``pipelines.local``).
"""

BASE_IMAGE = "python:3.11-slim"
SCIKIT_LEARN = "scikit-learn==1.9.1"

IRIS_PACKAGES = [SCIKIT_LEARN]
