"""Command line: ``python -m pipelines compile | run <example> | state-backend``."""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("build/pipelines")
DEFAULT_LOCAL_ROOT = Path("build/local_outputs")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    compile_cmd = commands.add_parser("compile", help="compile the example pipelines to YAML")
    compile_cmd.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")

    run_cmd = commands.add_parser(
        "run", help="run an example locally with kfp.local, or on a cluster (--on-cluster)"
    )
    run_cmd.add_argument(
        "--pipeline-root", type=Path, default=DEFAULT_LOCAL_ROOT, help="where outputs go"
    )
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument(
        "--on-cluster",
        action="store_true",
        help="create the run through the KFP API server instead of running it here",
    )
    target.add_argument(
        "--api-url",
        default=os.environ.get("KF_PIPELINES_ENDPOINT", ""),
        help="the KFP API for --on-cluster (default: $KF_PIPELINES_ENDPOINT)",
    )
    examples = run_cmd.add_subparsers(dest="example", required=True)
    hello = examples.add_parser("hello", parents=[target], help="print and return 'Hello, <name>!'")
    hello.add_argument("--name", default="World", help="who to greet")
    examples.add_parser(
        "iris", parents=[target], help="train a random forest on iris, report accuracy"
    )

    state = commands.add_parser(
        "state-backend", help="create a private S3 bucket for Pulumi state, print the login URL"
    )
    state.add_argument("--bucket", required=True, help="bucket name (created if missing)")
    state.add_argument("--region", required=True, help="AWS region, e.g. eu-west-1")
    state.add_argument("--endpoint-url", help="S3-compatible endpoint (MinIO, moto, ...)")
    state.add_argument("--kms-key-id", help="encrypt with this KMS key instead of AES256")
    return parser


def _compile(args: argparse.Namespace) -> None:
    from pipelines.catalog import compile_all

    for path in compile_all(args.out):
        print(f"wrote {path}")


def _run(args: argparse.Namespace) -> None:
    from pipelines.catalog import get_example

    arguments: dict[str, Any] = {"name": args.name} if args.example == "hello" else {}
    if args.on_cluster:
        from pipelines.cluster_run import run_on_cluster

        run = run_on_cluster(get_example(args.example), args.api_url, arguments)
        print(f"run_id: {run.run_id}")
        print(f"state: {run.state}")
        return

    from pipelines.local import run_example

    outputs = run_example(get_example(args.example), args.pipeline_root, arguments)
    for name, value in sorted(outputs.items()):
        shown = getattr(value, "path", value)
        print(f"{name}: {shown}")


def _state_backend(args: argparse.Namespace) -> None:
    import boto3

    from pipelines.state_backend import bootstrap_state_backend

    client = boto3.client("s3", region_name=args.region, endpoint_url=args.endpoint_url)
    url = bootstrap_state_backend(
        client, args.bucket, args.region, endpoint_url=args.endpoint_url, kms_key_id=args.kms_key_id
    )
    print(f"pulumi login '{url}'")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; known failures print one line and exit non-zero."""
    args = _parser().parse_args(argv)
    handlers = {"compile": _compile, "run": _run, "state-backend": _state_backend}
    try:
        handlers[args.command](args)
    except (ValueError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
