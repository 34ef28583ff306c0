"""Summarise a `pulumi preview --event-log` as Markdown for a pull request comment.

Counts creates, updates, deletes and replaces per component (the component
resource type in each URN's parent chain), lists the changed resources
of every non-create step with the properties that differ, and the policy
pack's violations per component: level, policy, object, problem and fix. A stack on the
pinned upstream previewed offline against a manifest mirror (`--mirror`) says so first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

OPS = ("create", "update", "delete", "replace")
# The engine's names of the enforcement levels in policy events.
LEVELS = {"mandatory": "mandatory", "warning": "advisory", "advisory": "advisory"}
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}


@dataclass(frozen=True)
class Step:
    """One planned change."""

    op: str
    urn: str
    diffs: tuple[str, ...]
    replace_keys: tuple[str, ...] = ()
    """The properties whose change forces the replace (immutable fields)."""
    kept: bool = False
    """A delete or replace that leaves the object in the cluster (retained: keepData)."""

    @property
    def component(self) -> str:
        """The innermost component type above the resource, or `stack` at top level."""
        return component_of(self.urn)

    @property
    def name(self) -> str:
        """The resource's type and name, without the stack and project."""
        return name_of(self.urn)


def component_of(urn: str) -> str:
    """The innermost component type above a URN's resource, or `stack` at top level."""
    type_chain = urn.split("::")[2].split("$") if urn.count("::") >= 3 else []
    parents = [t for t in type_chain[:-1] if not t.startswith("pulumi:")]
    return parents[-1].rsplit(":", 1)[-1] if parents else "stack"


def name_of(urn: str) -> str:
    """A URN's resource type and name, without the stack and project ('' for no URN)."""
    if urn.count("::") < 3:
        return ""
    return f"{urn.split('::')[2].split('$')[-1]} {urn.split('::')[-1]}"


@dataclass(frozen=True)
class PolicyViolation:
    """One policy violation the engine reported."""

    level: str
    policy: str
    urn: str
    problem: str
    fix: str

    @property
    def component(self) -> str:
        """The component of the violating resource (`stack` for the stack itself)."""
        return component_of(self.urn)


def read_violations(event_log: Iterable[str]) -> list[PolicyViolation]:
    """Policy violations from an engine event log. A message is the policy's description,
    then the problem, then `fix: ...` (policy/rules/model.py); the description is dropped."""
    out = []
    for line in event_log:
        if not line.strip():
            continue
        event = json.loads(line).get("policyEvent")
        if not event:
            continue
        lines = [part.strip() for part in event.get("message", "").splitlines() if part.strip()]
        fixes = [part for part in lines if part.startswith("fix: ")]
        fix = fixes[-1].removeprefix("fix: ") if fixes else ""
        body = [part for part in lines[1:] if part not in fixes] or lines[:1]
        level = LEVELS.get(event.get("enforcementLevel", ""), event.get("enforcementLevel", ""))
        policy, urn = event.get("policyName", ""), event.get("resourceUrn", "")
        out.append(PolicyViolation(level, policy, urn, " ".join(body), fix))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def violations_markdown(violations: list[PolicyViolation]) -> list[str]:
    """The policy section: counts by level, then a table per component."""
    if not violations:
        return ["", "#### Policies", "", "No policy violations."]
    levels = Counter(v.level for v in violations)
    counts = ", ".join(f"{n} {level}" for level, n in sorted(levels.items()))
    lines = ["", "#### Policies", "", f"{len(violations)} violations ({counts}).", ""]
    by_component: dict[str, list[PolicyViolation]] = defaultdict(list)
    for violation in violations:
        by_component[violation.component].append(violation)
    for component in sorted(by_component):
        lines += [f"**{component}**", "", "| level | policy | object | problem | fix |"]
        lines.append("|---|---|---|---|---|")
        for v in sorted(by_component[component], key=lambda v: (v.level != "mandatory", v.policy)):
            obj = f"`{name_of(v.urn)}`" if v.urn else "(stack)"
            cells = [v.level, v.policy, obj, _cell(v.problem), _cell(v.fix)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines[:-1]


def read_steps(event_log: Iterable[str]) -> list[Step]:
    """Planned steps from an engine event log (one JSON event per line)."""
    steps = []
    for line in event_log:
        if not line.strip():
            continue
        metadata = (json.loads(line).get("resourcePreEvent") or {}).get("metadata")
        if not metadata or metadata.get("op") in (None, "same", "read", "refresh"):
            continue
        op = "replace" if metadata["op"] in REPLACE_OPS else metadata["op"]
        if metadata["op"] in ("create-replacement", "delete-replaced"):
            continue  # the replace step itself is counted once
        old = metadata.get("old") or {}
        steps.append(
            Step(
                op,
                metadata["urn"],
                tuple(metadata.get("diffs") or ()),
                tuple(metadata.get("keys") or ()) if op == "replace" else (),
                op in ("delete", "replace") and bool(old.get("retainOnDelete")),
            )
        )
    return steps


def change_line(step: Step) -> str:
    """One changed resource: what changes, what forces a replace, what stays behind."""
    line = f"- {step.op} `{step.name}`"
    if step.replace_keys:
        line += f" (replaced: {', '.join(step.replace_keys)} cannot change in place)"
    elif step.diffs:
        line += f": {', '.join(step.diffs)}"
    if step.kept:
        line += " (kept in the cluster: keepData; it leaves the stack's state)"
    return line


def mirror_note(stack: str, mirror: str) -> str:
    """What a preview against a manifest mirror does not show of the stack's pinned upstream."""
    return (
        f"**Previewed offline against the manifest mirror `{mirror}`**, not the pinned upstream "
        f"`{stack}` installs from (`KUBEFLOW_PREVIEW_MIRROR`, docs/upstream.md): the same "
        "components, versions, settings, filters and install order, but each part's objects are "
        "the mirror's file, which differs from the pinned render where the mirror's INDEX.md "
        "says, and no render is checked against components/data/upstream-lock.yaml. A preview "
        f"with the network (`make preview STACK={stack}`) shows what `up` installs."
    )


def markdown(
    stack: str,
    steps: list[Step],
    violations: list[PolicyViolation] | None = None,
    mirror: str | None = None,
) -> str:
    """The pull-request summary: a table per component, then the non-create changes, then
    the policy violations (when the preview ran the policy pack: `violations` not None);
    first, when the stack was previewed against a manifest mirror instead of its pinned
    upstream (`mirror`), what that leaves out."""
    policies = [] if violations is None else violations_markdown(violations)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for step in steps:
        counts[step.component][step.op] += 1
    lines = [f"### `pulumi preview` of stack `{stack}`", ""]
    if mirror:
        lines += [mirror_note(stack, mirror), ""]
    if not steps:
        return "\n".join([*lines, "No changes.", *policies, ""])
    lines += ["| component | " + " | ".join(OPS) + " |", "|---|" + "---:|" * len(OPS)]
    for component in sorted(counts):
        cells = " | ".join(str(counts[component][op] or "") for op in OPS)
        lines.append(f"| {component} | {cells} |")
    total = Counter(step.op for step in steps)
    lines.append("| **total** | " + " | ".join(str(total[op] or "") for op in OPS) + " |")
    changes = [s for s in steps if s.op != "create"]
    kept = [s for s in changes if s.kept and s.op == "delete"]
    if kept:
        lines += ["", f"Left in the cluster (keepData), no longer in the stack: {len(kept)}:"]
        lines += [f"- `{s.name}`" for s in kept]
    if changes:
        lines += ["", "<details><summary>changed resources</summary>", ""]
        for component in sorted({s.component for s in changes}):
            lines += [f"**{component}**", ""]
            lines += [change_line(s) for s in changes if s.component == component]
            lines.append("")
        lines += ["</details>"]
    return "\n".join([*lines, *policies, ""])


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m infra.preview_summary STACK EVENT_LOG [--out FILE] [--policies]
    [--mirror DIR]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("event_log", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--policies", action="store_true", help="the preview ran the policy pack: list violations"
    )
    parser.add_argument(
        "--mirror", help="the manifest mirror a pinned-upstream stack was previewed against"
    )
    args = parser.parse_args(argv)
    if not args.event_log.is_file():
        parser.error(f"no event log at {args.event_log}; fix: run pulumi preview --event-log FILE")
    events = args.event_log.read_text().splitlines()
    violations = read_violations(events) if args.policies else None
    text = markdown(args.stack, read_steps(events), violations, args.mirror)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
