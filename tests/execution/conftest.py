"""A real local Ray cluster for the execution tests, started once per session.

``ray start --head --block`` runs as a subprocess in its own process group on 127.0.0.1 with
2 CPUs, free ports and a private temp folder (so it never meets another Ray on this
machine); the fixture stops it by signalling that process group only (never ``ray stop``,
which would stop every Ray of the user). Its workers get this folder and ``src`` on their
PYTHONPATH, so they import ``petridish`` and ``_fakes``. Without Ray the tests that need the
cluster are skipped with the reason printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fakes import free_port

import petridish

HERE = Path(__file__).resolve().parent
SRC = Path(petridish.__file__).resolve().parents[1]


def _ray_cli() -> str:
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.is_file() else (shutil.which("ray") or "ray")


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """``127.0.0.1:PORT`` of a 2-CPU Ray head started for the test session."""
    # Ray's token authentication follows ~/.ray/auth_token when RAY_AUTH_MODE is unset (a
    # local ray.init writes that file): pin it off for this private loopback cluster, in the
    # head and its workers and in this driver, before ray is imported here.
    with pytest.MonkeyPatch.context() as env_patch:
        env_patch.setenv("RAY_AUTH_MODE", "disabled")
        env_patch.delenv("RAY_ADDRESS", raising=False)
        yield from _cluster()


def _cluster() -> Iterator[str]:
    pytest.importorskip("ray", reason="ray is not installed (optional extra petridish[ray])")
    port = free_port()
    temp = tempfile.mkdtemp(prefix="pdray")  # short: Ray's socket paths have a length limit
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SRC), str(HERE), env.get("PYTHONPATH", "")) if p
    )
    command = [
        _ray_cli(),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--num-cpus=2",
        "--num-gpus=0",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp}",
        f"--ray-client-server-port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
    ]
    log = open(Path(temp) / "ray-start.log", "wb")  # noqa: SIM115 (closed below)
    head = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if head.poll() is not None:
                log.flush()
                text = (Path(temp) / "ray-start.log").read_text(errors="replace")
                pytest.fail(f"ray start exited with {head.returncode}:\n{text[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the test Ray cluster did not come up within 60 s")
                time.sleep(0.2)
        yield address
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        # ``ray start --block`` stops what it started on SIGTERM; the process group is ours.
        group = head.pid  # start_new_session: the head leads its own process group
        head.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        head.wait(timeout=5)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
