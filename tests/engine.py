"""Drive the real Pulumi CLI on a throwaway copy of the project.

Each `PulumiProject` has its own file backend, passphrase and stacks folder,
so tests never touch the developer's stacks or state. The program and the
packages are the repository's own (installed editable into .venv).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values
from kubernetes import config, dynamic

from tests.paths import MIRROR, REPO


class EngineMissingError(RuntimeError):
    """The Pulumi CLI is not on PATH."""


def require_engine() -> str:
    """The pulumi binary; a clear failure (not a skip) when setup has not run."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise EngineMissingError(
            "pulumi is not on PATH; fix: run `make setup` and run tests through `make test` "
            "(it sources scripts/env.sh)"
        )
    return pulumi


def in_loopback_netns() -> bool:
    """Whether this process can reach nothing but loopback."""
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return [line.split(":")[0].strip() for line in lines] == ["lo"]


DESTROY_ENV = REPO / "scripts" / "destroy.env"
"""The engine's environment for `destroy`, as `make destroy` has it (scripts/stack.sh)."""


def command_env(env: Mapping[str, str], args: Sequence[str]) -> dict[str, str]:
    """`env` for the pulumi command `args`: a `destroy` also gets scripts/destroy.env."""
    if not args or args[0] != "destroy":
        return dict(env)
    return {**env, **{k: v for k, v in dotenv_values(DESTROY_ENV).items() if v is not None}}


def engine_env(root: Path) -> dict[str, str]:
    """Pulumi's environment for a throwaway project in `root`: state in root/state, the
    passphrase in root/passphrase, no update check and no plugin downloads."""
    env = dict(os.environ)
    env.pop("PULUMI_CONFIG_PASSPHRASE", None)
    env |= {
        "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(root / "passphrase"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # `preview --event-log` (what scripts/preview.sh summarises) is behind this switch
        "PULUMI_DEBUG_COMMANDS": "true",
    }
    return env


@dataclass
class PulumiProject:
    """A throwaway Pulumi project with its own state, passphrase and stacks (in stacks/): a
    copy of the repo's (`create`) or a program of a test's own (`inline`)."""

    root: Path
    name: str
    """The project's name: its config keys' namespace."""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    """Set for every command, beside `engine_env`."""
    history: list[Result] = field(default_factory=list)
    """Every command run in the project, with its output (for scans of what was logged)."""

    @classmethod
    def create(cls, root: Path) -> PulumiProject:
        """Pulumi.yaml + infra/__main__.py of the repo, laid out under `root`."""
        project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
        project["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
        (root / "infra").mkdir(parents=True)
        shutil.copy(REPO / "infra" / "__main__.py", root / "infra" / "__main__.py")
        return cls._lay_out(root, project, {})

    @classmethod
    def inline(
        cls, root: Path, name: str, program: str, extra_env: Mapping[str, str] | None = None
    ) -> PulumiProject:
        """Project `name` under `root` whose program is `program` (its __main__.py), run in
        the repo's virtualenv."""
        project = {
            "name": name,
            "runtime": {"name": "python", "options": {"virtualenv": str(REPO / ".venv")}},
            "main": "program/",
            "stackConfigDir": "stacks",
        }
        (root / "program").mkdir(parents=True)
        (root / "program" / "__main__.py").write_text(program)
        return cls._lay_out(root, project, extra_env or {})

    @classmethod
    def _lay_out(
        cls, root: Path, project: Mapping[str, Any], extra_env: Mapping[str, str]
    ) -> PulumiProject:
        """Pulumi.yaml, the state folder, the stacks folder and a passphrase under `root`."""
        (root / "stacks").mkdir()
        (root / "state").mkdir()
        (root / "Pulumi.yaml").write_text(yaml.safe_dump(dict(project), sort_keys=False))
        (root / "passphrase").write_text(secrets.token_urlsafe(24))
        return cls(root, str(project["name"]), extra_env)

    @property
    def env(self) -> dict[str, str]:
        """The environment of every pulumi command: own backend, passphrase, no downloads."""
        return engine_env(self.root) | dict(self.extra_env)

    def stack(self, name: str, config: Mapping[str, Any]) -> Stack:
        """Create stack `name` with `config` (keys without the project's prefix)."""
        stack_file = self.root / "stacks" / f"Pulumi.{name}.yaml"
        stack_file.write_text(
            yaml.safe_dump({"config": {f"{self.name}:{k}": v for k, v in config.items()}})
        )
        self.run("stack", "init", name)
        return Stack(self, name)

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> Result:
        """Run `pulumi <args>` in the project; raise with its output when it fails."""
        done = subprocess.run(
            [require_engine(), "--non-interactive", *args],
            cwd=self.root,
            env=command_env(self.env, args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(list(args), done.returncode, done.stdout, done.stderr)
        self.history.append(result)
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.output[-6000:]}")
        return result


@dataclass
class Result:
    """What one pulumi command did."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout then stderr."""
        return f"{self.stdout}\n{self.stderr}"


@dataclass
class Stack:
    """One stack of a `PulumiProject`."""

    project: PulumiProject
    name: str

    def pulumi(self, *args: str, check: bool = True, timeout: float = 900) -> Result:
        """Run `pulumi <args> --stack <name>`."""
        return self.project.run(*args, "--stack", self.name, check=check, timeout=timeout)

    def set_config(self, key: str, value: Any) -> None:
        """Change one setting (a key without the project's prefix) in the stack file."""
        stack_file = self.project.root / "stacks" / f"Pulumi.{self.name}.yaml"
        document = yaml.safe_load(stack_file.read_text())
        document["config"][f"{self.project.name}:{key}"] = value
        stack_file.write_text(yaml.safe_dump(document))

    def up(self, *extra: str, check: bool = True, timeout: float = 900) -> Result:
        """`pulumi up --yes --skip-preview`."""
        return self.pulumi("up", "--yes", "--skip-preview", *extra, check=check, timeout=timeout)

    def preview_steps(self, *extra: str) -> dict[str, Any]:
        """`pulumi preview --json`, parsed."""
        result = self.pulumi("preview", "--json", *extra)
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    def outputs(self) -> dict[str, Any]:
        """The stack outputs, secrets shown."""
        result = self.pulumi("stack", "output", "--json", "--show-secrets")
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    def kube(self) -> dynamic.DynamicClient:
        """A client of the stack's cluster, from its (secret) kubeconfig output."""
        kubeconfig = yaml.safe_load(self.outputs()["cluster"]["kubeconfig"])
        return dynamic.DynamicClient(config.new_client_from_config_dict(kubeconfig))

    def state(self) -> str:
        """The raw state file text (what is stored at rest)."""
        files = list((self.project.root / "state").rglob(f"{self.name}.json"))
        assert len(files) == 1, files
        return files[0].read_text()


def start_pulumi(
    cwd: Path, env: Mapping[str, str], stack: str, *args: str
) -> subprocess.Popen[bytes]:
    """`pulumi <args>` (`up --yes --skip-preview`, ...) of `stack` in the background, leading
    a session of its own, so a test can kill it and its plugins as a crash would
    (`tests.processes.kill_session`)."""
    return subprocess.Popen(
        [require_engine(), "--non-interactive", *args, "--stack", stack],
        cwd=cwd,
        env=command_env(env, args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def local_mirror_stack(root: Path, name: str, settings: Mapping[str, Any]) -> Stack:
    """A stack `name` of a throwaway project under `root` on its own local cluster (in
    root/cluster) over the manifest mirror, with `settings` (keys without `kubeflow:`)
    besides. Fails clearly outside the loopback netns or without the control plane."""
    if not in_loopback_netns():
        pytest.fail("run e2e tests inside scripts/netns.sh (loopback only)", pytrace=False)
    require_engine()
    if not Path(os.environ.get("KUBEFLOW_KUBE_BIN_DIR", "/nonexistent")).is_dir():
        pytest.fail("KUBEFLOW_KUBE_BIN_DIR is unset; run through `make test-e2e`", pytrace=False)
    project = PulumiProject.create(root)
    local = {
        "cluster": "local",
        "localClusterDir": str(project.root / "cluster"),
        "manifestMirror": str(MIRROR),
    }
    return project.stack(name, {**local, **settings})


def step_timer(timings: dict[str, float]) -> Callable[[str], AbstractContextManager[None]]:
    """`with timed("step"):` records the step's wall time (seconds) in `timings`, also when
    the step fails."""

    @contextmanager
    def timed(name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            timings[name] = round(time.monotonic() - start, 1)

    return timed
