"""The Go tests of our Python language host's RunPlugin (tools/pulumi/language-python), run
with `make test`: a real gRPC client against the host, a plugin in a real virtualenv."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.paths import REPO

pytestmark = pytest.mark.integration

HOST = REPO / "tools" / "pulumi" / "language-python"


def test_the_language_hosts_go_tests_pass() -> None:
    go = shutil.which("go")
    assert go, "go is not on PATH; fix: install Go (the version of tools/pulumi/*/go.mod)"
    # The module cache filled by scripts/tools.sh has every module; never download here.
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
    done = subprocess.run(
        [go, "test", "-count=1", "-run", "RunPlugin", "-v", "."],
        cwd=HOST,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    for test in (
        "TestRunPluginRunsMainInTheDefaultVirtualenv",
        "TestRunPluginUsesTheVirtualenvOption",
        "TestRunPluginWithoutVirtualenvSaysHowToInstall",
        "TestRunPluginWithoutMainPySaysSo",
        "TestRunPluginStreamsStdoutAndStderrWrittenAtOnce",
        "TestRunPluginNeverSendsTwoMessagesAtOnce",
    ):
        assert f"--- PASS: {test}" in output, output[-4000:]
