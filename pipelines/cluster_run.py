"""Run an example pipeline on a cluster, through the KFP API server, with ``kfp.Client``.

The server turns the run into an Argo ``Workflow`` in its namespace; what then happens to
it is up to the cluster (on the `local` stack, where pods are simulated and no persistence
agent reports back, the run stays ``PENDING``).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.catalog import Example, compile_example
from pipelines.kfp_client import error_message
from pipelines.urls import http_url_problem

#: The kfp SDK's own variable for the API endpoint (kfp.Client reads it too).
ENDPOINT_ENV = "KF_PIPELINES_ENDPOINT"


class ClusterRunError(RuntimeError):
    """The run could not be created; the message names the API and the fix."""


@dataclass(frozen=True)
class ClusterRun:
    """A run as the API server reports it right after creating it."""

    run_id: str
    state: str
    experiment_id: str


def run_on_cluster(
    example: Example,
    api_url: str,
    arguments: Mapping[str, Any] | None = None,
    token: str | None = None,
    experiment: str = "examples",
) -> ClusterRun:
    """Compile ``example``, create a run of it with ``arguments`` and return its state."""
    import kfp
    from kfp_server_api.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    if problem := http_url_problem("--api-url", api_url):
        raise ClusterRunError(
            f"{problem} (the KFP API, e.g. http://127.0.0.1:8888); fix: pass --api-url or set "
            f"{ENDPOINT_ENV}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        client = kfp.Client(host=api_url, existing_token=token)
    try:
        with tempfile.TemporaryDirectory(prefix="kfp-run-") as tmp:
            package = compile_example(example, Path(tmp))
            # kfp.Client prints a link per call: keep the CLI's own output the only output.
            with contextlib.redirect_stdout(io.StringIO()):
                result = client.create_run_from_pipeline_package(
                    str(package),
                    arguments=dict(arguments or {}),
                    run_name=f"{example.key}-{Path(tmp).name.removeprefix('kfp-run-')}",
                    experiment_name=experiment,
                )
        run = client.get_run(result.run_id)
    except ApiException as err:
        raise ClusterRunError(
            f"the KFP API at {api_url} refused the run of {example.key!r}: HTTP {err.status}: "
            f"{error_message(err)}"
        ) from err
    except (HTTPError, OSError) as err:
        raise ClusterRunError(
            f"the KFP API at {api_url} is unreachable ({err}); fix: check --api-url "
            f"(or {ENDPOINT_ENV}) and that the API server runs"
        ) from err
    return ClusterRun(str(run.run_id), str(run.state), str(run.experiment_id))
