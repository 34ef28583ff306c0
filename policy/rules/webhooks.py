"""webhook-failure-policy: no admission webhook with failurePolicy Ignore outside `local`."""

from __future__ import annotations

from .model import KubeObject, Settings, Violation, catalog, describe

POLICY = "webhook-failure-policy"
KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
# The simulated local cluster's pods serve nothing, so its webhooks must fail open.
FAIL_OPEN_MODES = ("local",)


def check(obj: KubeObject, settings: Settings) -> list[Violation]:
    """A violation per webhook whose failurePolicy is Ignore, unless the cluster mode is local."""
    if obj.get("kind") not in KINDS or settings["clusterMode"] in FAIL_OPEN_MODES:
        return []
    return [
        Violation(
            f"{describe(obj)}: webhook {webhook.get('name', '?')!r} has failurePolicy Ignore on "
            f"cluster mode {settings['clusterMode']!r}",
            catalog()[POLICY]["fix"],
        )
        for webhook in obj.get("webhooks") or []
        if webhook.get("failurePolicy") == "Ignore"
    ]
