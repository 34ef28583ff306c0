"""Clear a stale lock of a stack in Pulumi's DIY state backend (S3 or local files).

`pulumi up` (and preview, refresh, destroy, ...) writes a lock object before it touches a
stack and deletes it when it ends. A pulumi that is killed leaves its lock behind and every
later command on the stack fails with "the stack is currently locked by 1 lock(s)".
`pulumi cancel` deletes every lock of the stack without looking at who holds it; this
command (`make unlock STACK=...`, or `python -m infra.state_lock STACK`) first shows each
lock's owner and age and deletes it only when its holder is known to be gone:

- taken on this machine: the pulumi process that wrote it (pid, started before the lock's
  time) is no longer alive, and no other pulumi process of the stack (`--stack NAME`, same
  backend) is running;
- taken on another host: nothing here can tell whether it still runs, so only `--force`.

The layout is the DIY backend's (pulumi pkg/backend/diy, lock.go and meta.go, v3.260.0):
`<backend>/.pulumi/locks/organization/<project>/<stack>/<uuid>.json` when
`.pulumi/meta.yaml` says `version: 1` (project-scoped stacks), else the legacy
`<backend>/.pulumi/locks/<stack>/<uuid>.json`. A lock holds `{"pid", "username",
"hostname", "timestamp"}` (Go's os.Getpid, user.Current, os.Hostname, time.Now).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import yaml

BOOKKEEPING = ".pulumi"
ATTRS = ".attrs"
PROC = Path("/proc")
# A holder's start time may trail its lock's timestamp by clock-tick rounding only.
START_SLACK = timedelta(seconds=2)


class UnlockError(RuntimeError):
    """The backend or stack cannot be handled; the message names the setting and the fix."""


class Store(Protocol):
    """The few blob operations the DIY backend's lock needs, keys relative to the backend."""

    @property
    def url(self) -> str:
        """The backend URL."""

    def read(self, key: str) -> bytes | None:
        """The object's bytes, None when it does not exist."""

    def list_files(self, folder: str) -> list[str]:
        """Keys of the objects directly in `folder` (no sub-folders)."""

    def delete(self, key: str) -> None:
        """Delete the object."""

    def repair_torn_writes(self) -> list[str]:
        """Undo what a killed write left half done; the keys it repaired."""


@dataclass(frozen=True)
class FileStore:
    """A `file://` backend: a folder. Go CDK's fileblob keeps each object's metadata in a
    `<name>.attrs` file beside it and hides those from listings; so does this store."""

    url: str
    root: Path

    def read(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def list_files(self, folder: str) -> list[str]:
        path = self.root / folder
        if not path.is_dir():
            return []
        return sorted(
            f"{folder}/{p.name}"
            for p in path.iterdir()
            if p.is_file() and not p.name.endswith(ATTRS)
        )

    def delete(self, key: str) -> None:
        (self.root / key).unlink()
        (self.root / f"{key}{ATTRS}").unlink(missing_ok=True)

    def repair_torn_writes(self) -> list[str]:
        """fileblob writes an object's `.attrs` beside it before it renames the new content
        into place: a pulumi killed in between leaves an empty `.attrs` next to the last
        complete checkpoint, and every later command fails with "failed to load checkpoint:
        EOF". An absent `.attrs` is read as no attributes, so the empty one is removed."""
        repaired = []
        for attrs in sorted((self.root / BOOKKEEPING).rglob(f"*{ATTRS}")):
            data = attrs.with_name(attrs.name.removesuffix(ATTRS))
            if attrs.stat().st_size == 0 and data.is_file():
                attrs.unlink()
                repaired.append(str(data.relative_to(self.root)))
        return repaired


@dataclass(frozen=True)
class S3Store:
    """An `s3://bucket[/prefix]?region=...&endpoint=...` backend."""

    url: str
    client: Any
    bucket: str
    prefix: str

    def read(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)[
                "Body"
            ].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return body

    def list_files(self, folder: str) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        keys = []
        for page in paginator.paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{folder}/", Delimiter="/"
        ):
            keys += [item["Key"][len(self.prefix) :] for item in page.get("Contents", [])]
        return sorted(keys)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def repair_torn_writes(self) -> list[str]:
        """S3 writes an object whole or not at all: nothing to repair."""
        return []


def open_store(url: str) -> Store:
    """The store of a Pulumi backend URL (`file://...` or `s3://...`)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        raw = url[len("file://") :].split("?", 1)[0]
        return FileStore(url, Path(raw).expanduser().resolve())
    if parts.scheme == "s3":
        return _s3_store(url)
    raise UnlockError(
        f"backend {url!r}: only file:// and s3:// backends are handled here; fix: for the "
        "Pulumi Cloud use `pulumi cancel`, for other DIY backends delete the lock object "
        "named in pulumi's error after checking its owner"
    )


def _s3_store(url: str) -> S3Store:
    import boto3
    from botocore.config import Config

    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    endpoint = query.get("endpoint")
    if endpoint and "://" not in endpoint:
        endpoint = ("http://" if query.get("disableSSL") == "true" else "https://") + endpoint
    path_style = "true" in (query.get("use_path_style"), query.get("s3ForcePathStyle"))
    session = boto3.session.Session(profile_name=query.get("profile"))
    client = session.client(
        "s3",
        region_name=query.get("region"),
        endpoint_url=endpoint,
        config=Config(s3={"addressing_style": "path" if path_style else "auto"}),
    )
    prefix = parts.path.strip("/")
    return S3Store(url, client, parts.netloc, f"{prefix}/" if prefix else "")


def backend_url(project_dir: Path, env: dict[str, str]) -> str:
    """The backend pulumi would use here: PULUMI_BACKEND_URL, else the project's
    `backend.url`, else the current login of PULUMI_HOME (~/.pulumi)."""
    if env.get("PULUMI_BACKEND_URL"):
        return env["PULUMI_BACKEND_URL"]
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    url = (project.get("backend") or {}).get("url")
    if url:
        return str(url)
    home = Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
    credentials = home / "credentials.json"
    if credentials.is_file():
        current = json.loads(credentials.read_text()).get("current")
        if current:
            return str(current)
    raise UnlockError(
        "no Pulumi backend: PULUMI_BACKEND_URL is unset and there is no `pulumi login`; "
        "fix: run through `make unlock` (it sources scripts/env.sh) or export PULUMI_BACKEND_URL"
    )


def lock_folder(store: Store, project: str, stack: str) -> str:
    """Where the stack's locks live in this backend's layout (meta.yaml version)."""
    meta = store.read(f"{BOOKKEEPING}/meta.yaml")
    version = (yaml.safe_load(meta) or {}).get("version", 0) if meta else 0
    if version == 0:
        return f"{BOOKKEEPING}/locks/{stack.split('/')[-1]}"
    parts = stack.split("/")
    if len(parts) == 3:  # organization/project/stack
        return f"{BOOKKEEPING}/locks/{stack}"
    return f"{BOOKKEEPING}/locks/organization/{project}/{parts[-1]}"


@dataclass(frozen=True)
class Lock:
    """One lock object and what its writer recorded."""

    key: str
    pid: int
    username: str
    hostname: str
    timestamp: datetime

    def describe(self, now: datetime) -> str:
        age = now - self.timestamp
        return (
            f"{self.key}: taken by {self.username}@{self.hostname} (pid {self.pid}) at "
            f"{self.timestamp.isoformat(timespec='seconds')}, {_duration(age)} ago"
        )


def read_locks(store: Store, folder: str) -> list[Lock]:
    """Every lock of the stack (objects whose content is not a lock are an error)."""
    locks = []
    for key in store.list_files(folder):
        data = store.read(key)
        if data is None:  # released while we listed
            continue
        try:
            content = json.loads(data)
            locks.append(
                Lock(
                    key,
                    int(content["pid"]),
                    str(content["username"]),
                    str(content["hostname"]),
                    datetime.fromisoformat(content["timestamp"]),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise UnlockError(
                f"{store.url} {key} is not a Pulumi lock ({error}); fix: look at it and "
                "delete it by hand if it is one"
            ) from error
    return locks


def _duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
    )


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise UnlockError("/proc/stat has no btime; this command needs Linux's /proc")


def _stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat (state first), None when there is no such process."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2 :].split()


def pulumi_processes() -> Iterator[tuple[int, datetime, list[str], dict[str, str]]]:
    """Live pulumi CLI processes here: pid, start time, argv, environment."""
    boot, ticks = _boot_time(), os.sysconf("SC_CLK_TCK")
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "pulumi":
                continue
            argv = [a.decode() for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
            raw_env = (entry / "environ").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = _stat(int(entry.name))
        if fields is None or fields[0] in ("Z", "X"):
            continue
        started = datetime.fromtimestamp(boot + int(fields[19]) / ticks, UTC)
        env = dict(item.decode(errors="replace").partition("=")[::2] for item in raw_env if item)
        yield int(entry.name), started, argv, env


def _names_stack(argv: Sequence[str], stack: str) -> bool:
    names = {stack, stack.split("/")[-1]}
    for i, arg in enumerate(argv):
        if arg in ("--stack", "-s") and i + 1 < len(argv) and argv[i + 1] in names:
            return True
        if arg.startswith("--stack=") and arg.split("=", 1)[1] in names:
            return True
    return False


def blockers(lock: Lock, stack: str, url: str) -> list[str]:
    """Live pulumi processes here that may still own the stack: the lock's writer (its pid,
    started before the lock was taken) and any pulumi naming the stack on this backend."""
    found = []
    for pid, started, argv, env in pulumi_processes():
        holder = pid == lock.pid and started <= lock.timestamp + START_SLACK
        same_backend = env.get("PULUMI_BACKEND_URL", url) == url
        if holder or (_names_stack(argv, stack) and same_backend):
            found.append(f"pid {pid}: {' '.join(argv)}")
    return found


def unlock(store: Store, project: str, stack: str, force: bool, out: Any = sys.stdout) -> int:
    """Show the stack's locks and delete those whose holder is gone; 0 when none is left."""
    folder = lock_folder(store, project, stack)
    locks = read_locks(store, folder)
    if not locks:
        print(f"stack {stack}: no lock in {store.url}", file=out)
        return 0
    here, now, kept = socket.gethostname(), datetime.now(UTC), 0
    for lock in locks:
        print(f"lock {lock.describe(now)}", file=out)
        if lock.hostname != here:
            if not force:
                kept += 1
                print(
                    f"  kept: taken on host {lock.hostname}, not this one ({here}), so its "
                    f"pulumi cannot be checked from here; fix: make sure no pulumi of stack "
                    f"{stack} runs on {lock.hostname}, then `make unlock STACK={stack} "
                    "FORCE=1` (python -m infra.state_lock --force)",
                    file=out,
                )
                continue
            print("  --force: deleting a lock taken on another host", file=out)
        else:
            alive = blockers(lock, stack, store.url)
            if alive:
                kept += 1
                print(
                    f"  kept: pulumi still runs on this machine for stack {stack}:\n    "
                    + "\n    ".join(alive)
                    + "\n  fix: wait for it to end (or stop it), then run this again",
                    file=out,
                )
                continue
            print(f"  pid {lock.pid} is gone and no pulumi of stack {stack} runs here", file=out)
        store.delete(lock.key)
        print(f"  deleted {lock.key}", file=out)
    if not kept:  # no pulumi of the stack is left that could be writing
        for key in store.repair_torn_writes():
            print(f"repaired {key}: removed the empty .attrs a killed write left", file=out)
    return 1 if kept else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.state_lock",
        description="Clear the lock a killed pulumi left on STACK, after checking its owner.",
    )
    parser.add_argument("stack", help="stack name (or organization/PROJECT/STACK)")
    parser.add_argument(
        "--force", action="store_true", help="also delete locks taken on other hosts"
    )
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="has Pulumi.yaml")
    args = parser.parse_args(argv)
    try:
        project_file = args.project_dir / "Pulumi.yaml"
        if not project_file.is_file():
            raise UnlockError(f"no Pulumi.yaml in {args.project_dir}; fix: pass --project-dir")
        project = str(yaml.safe_load(project_file.read_text())["name"])
        url = backend_url(args.project_dir, dict(os.environ))
        return unlock(open_store(url), project, args.stack, args.force)
    except UnlockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
