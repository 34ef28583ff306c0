"""Team state backend: a private S3 bucket on a real S3 endpoint (moto server on 127.0.0.1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from pipelines.__main__ import main
from pipelines.s3_bucket import S3SettingError
from pipelines.state_backend import bootstrap_state_backend, state_backend_url

pytestmark = pytest.mark.usefixtures("fake_aws_credentials")


def client_for(url: str) -> Any:
    """A boto3 client built only from what the login URL says, as the Pulumi CLI would."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    addressing = "path" if query.get("use_path_style") == "true" else "auto"
    return boto3.client(
        "s3",
        region_name=query["region"],
        endpoint_url=query.get("endpoint"),
        config=Config(s3={"addressing_style": addressing}),
    )


def test_login_url_reaches_a_private_versioned_encrypted_bucket(endpoint: str) -> None:
    admin = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)

    url = bootstrap_state_backend(admin, "team-pulumi-state", "eu-west-1", endpoint_url=endpoint)

    assert url.startswith("s3://team-pulumi-state?")
    s3 = client_for(url)
    s3.put_object(Bucket="team-pulumi-state", Key=".pulumi/meta.yaml", Body=b"version: 1\n")
    body = s3.get_object(Bucket="team-pulumi-state", Key=".pulumi/meta.yaml")["Body"].read()
    assert body == b"version: 1\n"
    assert s3.get_bucket_versioning(Bucket="team-pulumi-state")["Status"] == "Enabled"
    encryption = s3.get_bucket_encryption(Bucket="team-pulumi-state")
    [rule] = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket="team-pulumi-state")
    assert all(block["PublicAccessBlockConfiguration"].values())


def test_bootstrapping_twice_keeps_the_state(endpoint: str) -> None:
    admin = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
    first = bootstrap_state_backend(admin, "team-state-twice", "eu-west-1", endpoint_url=endpoint)
    admin.put_object(Bucket="team-state-twice", Key="stack.json", Body=b"{}")

    second = bootstrap_state_backend(admin, "team-state-twice", "eu-west-1", endpoint_url=endpoint)

    assert second == first
    assert admin.get_object(Bucket="team-state-twice", Key="stack.json")["Body"].read() == b"{}"


def test_cli_prints_the_login_command(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--bucket", "team-state-cli", "--region", "us-east-1", "--endpoint-url", endpoint]

    assert main(["state-backend", *args]) == 0

    line = capsys.readouterr().out.strip()
    assert line.startswith("pulumi login 's3://team-state-cli?region=us-east-1&endpoint=http")
    url = line.split("'")[1]
    assert client_for(url).head_bucket(Bucket="team-state-cli")["ResponseMetadata"]


def test_aws_url_has_only_the_region() -> None:
    assert state_backend_url("acme-state", "eu-west-1") == "s3://acme-state?region=eu-west-1"


def test_bad_settings_fail_before_any_call(endpoint: str) -> None:
    admin = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
    buckets = admin.list_buckets()["Buckets"]

    with pytest.raises(S3SettingError, match="endpoint_url"):
        bootstrap_state_backend(admin, "team-state-bad", "eu-west-1", endpoint_url="ftp://x")
    with pytest.raises(S3SettingError, match="endpoint_url must not carry credentials"):
        url = "https://admin:hunter2@minio:9000"
        bootstrap_state_backend(admin, "team-state-bad", "eu-west-1", endpoint_url=url)
    with pytest.raises(S3SettingError, match="region"):
        bootstrap_state_backend(admin, "team-state-bad", "Europe West")

    assert admin.list_buckets()["Buckets"] == buckets


def test_cli_reports_an_unreachable_endpoint_in_one_line(
    capsys: pytest.CaptureFixture[str], closed_url: str
) -> None:
    args = ["--bucket", "team-state", "--region", "eu-west-1", "--endpoint-url", closed_url]

    assert main(["state-backend", *args]) == 1

    error = capsys.readouterr().err
    assert error.startswith("error: cannot create bucket 'team-state'")
    assert "Check the endpoint URL" in error
