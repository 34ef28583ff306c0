"""The one check of the http(s) URLs that settings name: the S3 endpoint of the artifact store
and the state backend, the KFP API and UI of the example pipelines, the API of a run.

Such a URL ends up in resource properties, stack outputs, state and logs, so credentials in
it (``user:password@host``) would be plain text in all of them: they are refused, and the
problem never repeats a URL that carries them.
"""

from urllib.parse import urlsplit


def http_url_problem(setting: str, url: object) -> str | None:
    """What is wrong with ``url`` as the value of ``setting`` (named as the user writes it),
    or None for an ``http(s)://host...`` URL without credentials. The caller adds the fix."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # e.g. an unclosed [IPv6 address
        parts = None
    if parts is not None and "@" in parts.netloc:
        return (
            f"{setting} must not carry credentials (user:password@), which would be stored "
            "in plain text"
        )
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = "" if "@" in str(url) else f" = {url!r}"  # what may be a password stays out
        return f"{setting}{shown} is not an http:// or https:// URL"
    return None
