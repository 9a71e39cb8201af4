"""Sandbox mode: the sandbox's process in a child, its export lines as our settings.

The sandbox is a separate distribution (giftbridge-sandbox, ``sandbox/pyproject.toml``) that the
daemon never imports: it is reached only through its process entry point, ``python -m sandbox``
(:func:`sandbox_command`), here and in ``giftbridge sandbox``.

With none of the three credentials set, the daemon starts the stand-ins in their own process
(so the daemon stays small and the stand-ins keep their real rate limits and wire formats),
reads the ``export GIFTBRIDGE_...='...'`` lines it prints (:attr:`EmbeddedSandbox.environment`;
the composition root points the settings at them), and then runs exactly as it would against a
real shop. The child runs in its own session: Ctrl-C in the terminal stops the daemon,
which finishes its in-flight work against a still-running sandbox and then stops the child.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from clients.errors import GiftbridgeError

_EXPORT = re.compile(r"^export (GIFTBRIDGE_[A-Z_]+)='([^']*)'$")
EXPECTED_LINES = 11
DEFAULT_PORT_BASE = 8701
DEMO_SKU = "GC-DEMO"  # the SKU the demo traffic sells (sandbox.demo)
SANDBOX_MODULE = "sandbox"  # its process entry point: python -m sandbox


class SandboxStartFailed(GiftbridgeError):
    """The embedded sandbox did not come up; the message says why."""


class PortsTaken(SandboxStartFailed):
    """The sandbox could not listen on the ports it was given."""


class SandboxNotInstalled(SandboxStartFailed):
    """The giftbridge-sandbox distribution is not installed beside the daemon."""


PORTS_TAKEN_EXIT = 2  # the sandbox process's exit code when it cannot listen


def sandbox_command(argv: Sequence[str]) -> list[str]:
    """The command line that runs the sandbox's process with ``argv``.

    Looks the package up without importing it (the daemon never loads the stand-ins)."""
    if find_spec(SANDBOX_MODULE) is None:
        raise SandboxNotInstalled(
            "the sandbox is not installed: install giftbridge-sandbox beside giftbridge "
            "(`make install` does; by hand `pip install ./sandbox` from a checkout)"
        )
    return [sys.executable, "-m", SANDBOX_MODULE, *argv]


def _ports_free(base: int) -> bool:
    for port in range(base, base + 3):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


@dataclass
class EmbeddedSandbox:
    process: subprocess.Popen[bytes]
    environment: dict[str, str]

    @classmethod
    def start(
        cls, state_dir: Path, *, demo: bool, currency: str = "USD", timeout: float = 30.0
    ) -> EmbeddedSandbox:
        """Start the child on ports 8701-8703, or on free ones when those are taken (also
        when another process takes them between our look and the child's bind)."""
        if _ports_free(DEFAULT_PORT_BASE):
            try:
                return cls._start(state_dir, DEFAULT_PORT_BASE, demo, currency, timeout)
            except PortsTaken:
                pass
        return cls._start(state_dir, 0, demo, currency, timeout)

    @classmethod
    def _start(
        cls, state_dir: Path, port_base: int, demo: bool, currency: str, timeout: float
    ) -> EmbeddedSandbox:
        command = sandbox_command(["--port-base", str(port_base), *(["--demo"] if demo else [])])
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBRIDGE_")}
        env.update(GIFTBRIDGE_STATE_DIR=str(state_dir), GIFTBRIDGE_CURRENCY=currency)
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=subprocess.PIPE, stderr=None, env=env, start_new_session=True
        )
        sandbox = cls(process, {})
        try:
            sandbox._read_environment(timeout)
        except BaseException:
            sandbox.stop()
            raise
        return sandbox

    def _read_environment(self, timeout: float) -> None:
        stdout = self.process.stdout
        if stdout is None:
            raise SandboxStartFailed("the sandbox's output is not connected")
        deadline, pending = time.monotonic() + timeout, b""
        while len(self.environment) < EXPECTED_LINES:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([stdout], [], [], max(remaining, 0))
            if not ready:
                raise SandboxStartFailed(f"the sandbox printed no environment in {timeout} s")
            chunk = os.read(stdout.fileno(), 65536)  # raw: select and a read buffer disagree
            if not chunk:
                code = self.process.wait()
                if code == PORTS_TAKEN_EXIT:
                    raise PortsTaken("the sandbox's ports are taken")
                raise SandboxStartFailed(
                    f"the sandbox exited with code {code} before it was ready "
                    "(its log lines above say why)"
                )
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                match = _EXPORT.match(line.decode("utf-8", "replace").strip())
                if match:
                    self.environment[match.group(1)] = match.group(2)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
