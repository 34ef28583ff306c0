"""Bootstrap a team's Pulumi state backend: a private S3 bucket and its login URL.

The local ``file://`` backend suits one person; a team shares state in S3. Pulumi's S3
backend reads the bucket URL's query (``region``, ``endpoint``, ``use_path_style``), so an
S3-compatible store (MinIO, or moto in tests) works the same way.
"""

from typing import Any
from urllib.parse import urlencode

from pipelines.s3_bucket import ensure_private_bucket, parse_endpoint_url, validate_region


def bootstrap_state_backend(
    s3_client: Any,
    bucket: str,
    region: str,
    endpoint_url: str | None = None,
    kms_key_id: str | None = None,
) -> str:
    """Create (or adopt) the state bucket and return the ``pulumi login`` URL for it.

    ``s3_client`` must already talk to ``endpoint_url`` when one is given; the URL carries the
    same endpoint so the Pulumi CLI reaches the same store.
    """
    validate_region(region, custom_endpoint=endpoint_url is not None)
    if endpoint_url is not None:
        endpoint_url = parse_endpoint_url(endpoint_url).url
    ensure_private_bucket(s3_client, bucket, region, kms_key_id)
    return state_backend_url(bucket, region, endpoint_url)


def state_backend_url(bucket: str, region: str, endpoint_url: str | None = None) -> str:
    """``s3://bucket?region=...`` plus the endpoint and path-style flag for non-AWS stores."""
    query: dict[str, str] = {"region": region}
    if endpoint_url is not None:
        query["endpoint"] = endpoint_url
        query["use_path_style"] = "true"
    return f"s3://{bucket}?{urlencode(query)}"
