"""Private, versioned, encrypted S3 buckets, and validation of the settings that name them.

Shared by the KFP artifact store and the Pulumi state backend: both hold data a team cannot
lose (versioning) or leak (encryption, public access blocked).
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pipelines.urls import http_url_problem

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_AWS_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_OTHER_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class S3SettingError(ValueError):
    """A bucket, region or endpoint setting is invalid; the message names it and the fix."""


class BucketError(RuntimeError):
    """S3 refused or could not be reached while preparing a bucket."""


@dataclass(frozen=True)
class Endpoint:
    """An S3 endpoint split the way KFP, Argo and Pulumi each want it."""

    scheme: str
    host: str
    port: int

    @property
    def secure(self) -> bool:
        """True when the endpoint speaks TLS."""
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        """``host`` or ``host:port`` (port only when not the scheme's default)."""
        default_port = 443 if self.secure else 80
        return self.host if self.port == default_port else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``scheme://authority``: the form boto3 and Pulumi take."""
        return f"{self.scheme}://{self.authority}"


def validate_bucket_name(bucket: str, setting: str = "bucket") -> None:
    """Reject names S3 would refuse, before any resource is created."""
    fix = f"Fix: set {setting} to 3-63 lowercase letters, digits, '.' or '-', e.g. 'acme-kfp'."
    problem = _bucket_name_problem(bucket)
    if problem:
        raise S3SettingError(
            f"{setting} {bucket!r} is not a valid S3 bucket name: {problem}. {fix}"
        )


def _bucket_name_problem(bucket: str) -> str | None:
    if not _BUCKET_RE.match(bucket):
        return "use 3-63 lowercase letters, digits, '.', '-', starting and ending alphanumeric"
    if ".." in bucket:
        return "two adjacent periods"
    if bucket.startswith(_RESERVED_PREFIXES) or bucket.endswith(_RESERVED_SUFFIXES):
        return "it uses a prefix or suffix S3 reserves"
    try:
        ipaddress.ip_address(bucket)
    except ValueError:
        return None
    return "it is formatted as an IP address"


def validate_region(region: str, custom_endpoint: bool, setting: str = "region") -> None:
    """AWS regions look like ``eu-west-1``; S3-compatible stores may use any short token."""
    if custom_endpoint and _OTHER_REGION_RE.match(region):
        return
    if not custom_endpoint and _AWS_REGION_RE.match(region):
        return
    example = "'us-east-1' (or the region your S3-compatible store expects)"
    raise S3SettingError(
        f"{setting} {region!r} is not a valid region. Fix: set {setting} to {example}."
    )


def parse_endpoint_url(url: str, setting: str = "endpoint_url") -> Endpoint:
    """Accept only ``http(s)://host[:port]``: no path, query or embedded credentials."""
    fix = (
        f"Fix: set {setting} to e.g. 'https://minio.example.com:9000' (keys go in a Kubernetes "
        "Secret, not in the URL), or leave it unset for AWS."
    )
    problem = http_url_problem(setting, url)
    if problem is not None:
        raise S3SettingError(f"{problem}. {fix}")
    parts = urlsplit(url)
    assert parts.hostname is not None  # http_url_problem: no URL without a host
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise S3SettingError(f"{setting} {url!r} must not have a path, query or fragment. {fix}")
    try:
        port = parts.port
    except ValueError as err:
        raise S3SettingError(f"{setting} {url!r} has an invalid port. {fix}") from err
    default_port = 443 if parts.scheme == "https" else 80
    return Endpoint(parts.scheme, parts.hostname, port or default_port)


def aws_endpoint(region: str) -> Endpoint:
    """The regional AWS S3 endpoint."""
    return Endpoint("https", f"s3.{region}.amazonaws.com", 443)


def ensure_private_bucket(
    s3_client: Any, bucket: str, region: str, kms_key_id: str | None = None
) -> None:
    """Create ``bucket`` if needed, then enforce versioning, encryption and no public access.

    Idempotent: a bucket this account already owns is fine, and its settings are re-applied.
    """
    validate_bucket_name(bucket)
    _create_bucket(s3_client, bucket, region)
    _call(
        f"block public access on {bucket!r}",
        s3_client.put_public_access_block,
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    _call(
        f"enable versioning on {bucket!r}",
        s3_client.put_bucket_versioning,
        Bucket=bucket,
        VersioningConfiguration={"Status": "Enabled"},
    )
    _call(
        f"enable default encryption on {bucket!r}",
        s3_client.put_bucket_encryption,
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [_encryption_rule(kms_key_id)]},
    )


def _encryption_rule(kms_key_id: str | None) -> dict[str, Any]:
    if kms_key_id is None:
        return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    return {
        "ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": kms_key_id,
        },
        "BucketKeyEnabled": True,
    }


def _create_bucket(s3_client: Any, bucket: str, region: str) -> None:
    from botocore.exceptions import ClientError

    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        _call(f"create bucket {bucket!r} in {region}", s3_client.create_bucket, **kwargs)
    except BucketError as err:
        cause = err.__cause__
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else ""
        if code == "BucketAlreadyOwnedByYou":
            return
        if code == "BucketAlreadyExists":
            raise BucketError(
                f"S3 bucket {bucket!r} already exists and belongs to another account "
                "(bucket names are global). Fix: choose another bucket name."
            ) from cause
        raise


def _call(action: str, method: Any, **kwargs: Any) -> Any:
    """Call a boto3 method; turn botocore failures into one clear line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except ClientError as err:
        error = err.response.get("Error", {})
        raise BucketError(
            f"cannot {action}: {error.get('Code', '?')}: {error.get('Message', err)}"
        ) from err
    except BotoCoreError as err:
        raise BucketError(
            f"cannot {action}: {err}. Check the endpoint URL, region and AWS credentials "
            "(environment, profile or IAM role)."
        ) from err
