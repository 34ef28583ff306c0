"""Summarise a `pulumi preview --event-log` as Markdown for a pull request comment.

Counts creates, updates, deletes and replaces per component (the component
resource type in each URN's parent chain), and lists the changed resources
of every non-create step with the properties that differ.
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
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}


@dataclass(frozen=True)
class Step:
    """One planned change."""

    op: str
    urn: str
    diffs: tuple[str, ...]

    @property
    def component(self) -> str:
        """The innermost component type above the resource, or `stack` at top level."""
        type_chain = self.urn.split("::")[2].split("$") if self.urn.count("::") >= 3 else []
        parents = [t for t in type_chain[:-1] if not t.startswith("pulumi:")]
        return parents[-1].rsplit(":", 1)[-1] if parents else "stack"

    @property
    def name(self) -> str:
        """The resource's type and name, without the stack and project."""
        return f"{self.urn.split('::')[2].split('$')[-1]} {self.urn.split('::')[-1]}"


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
        steps.append(Step(op, metadata["urn"], tuple(metadata.get("diffs") or ())))
    return steps


def markdown(stack: str, steps: list[Step]) -> str:
    """The pull-request summary: a table per component, then the non-create changes."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for step in steps:
        counts[step.component][step.op] += 1
    lines = [f"### `pulumi preview` of stack `{stack}`", ""]
    if not steps:
        return "\n".join([*lines, "No changes.", ""])
    lines += ["| component | " + " | ".join(OPS) + " |", "|---|" + "---:|" * len(OPS)]
    for component in sorted(counts):
        cells = " | ".join(str(counts[component][op] or "") for op in OPS)
        lines.append(f"| {component} | {cells} |")
    total = Counter(step.op for step in steps)
    lines.append("| **total** | " + " | ".join(str(total[op] or "") for op in OPS) + " |")
    changes = [s for s in steps if s.op != "create"]
    if changes:
        lines += ["", "<details><summary>changed resources</summary>", ""]
        lines += [
            f"- {s.op} `{s.name}`" + (f": {', '.join(s.diffs)}" if s.diffs else "") for s in changes
        ]
        lines += ["", "</details>"]
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m infra.preview_summary STACK EVENT_LOG [--out FILE]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("event_log", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.event_log.is_file():
        parser.error(f"no event log at {args.event_log}; fix: run pulumi preview --event-log FILE")
    text = markdown(args.stack, read_steps(args.event_log.read_text().splitlines()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
