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

One set of stand-ins per ``STATE_DIR``: the sandbox process holds an ``flock`` on
``STATE_DIR/sandbox/sandbox.lock`` and writes its export lines to ``sandbox.env`` beside it
(``sandbox/stack.py``). When a sandbox already runs there (``giftbridge run`` in another
terminal, or ``giftbridge sandbox``), :meth:`EmbeddedSandbox.start` uses that one (and leaves it
running) instead of starting a second set on the same data. One-shot commands (``check``,
``card``, ...) pass ``quiet``: the child's log lines go to ``STATE_DIR/sandbox/sandbox.log``, not
between the command's own output.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from clients.errors import GiftbridgeError

_EXPORT = re.compile(r"^export (GIFTBRIDGE_[A-Z_]+)='([^']*)'$")
EXPECTED_LINES = 12  # 4 URLs, 4 credentials (Shopify's: client id and secret), base, shop,
# pepper, key
DEFAULT_PORT_BASE = 8701
DEMO_SKU = "GC-DEMO"  # the SKU the demo traffic sells (sandbox.demo)
SANDBOX_MODULE = "sandbox"  # its process entry point: python -m sandbox
# The sandbox's files in STATE_DIR/sandbox (sandbox/stack.py): a contract between the two.
DATA_DIR, LOCK_NAME, RUNNING_ENV, LOG_NAME = "sandbox", "sandbox.lock", "sandbox.env", "sandbox.log"
TOKEN_SECONDS_ENV = "GIFTBRIDGE_SANDBOX_TOKEN_SECONDS"  # noqa: S105 - a name; passed through


class SandboxStartFailed(GiftbridgeError):
    """The embedded sandbox did not come up; the message says why."""


class PortsTaken(SandboxStartFailed):
    """The sandbox could not listen on the ports it was given."""


class SandboxNotInstalled(SandboxStartFailed):
    """The giftbridge-sandbox distribution is not installed beside the daemon."""


class SandboxBusy(SandboxStartFailed):
    """Another sandbox process runs on the same data."""


PORTS_TAKEN_EXIT = 2  # the sandbox process's exit code when it cannot listen
BUSY_EXIT = 3  # ... when another sandbox runs on the same data


def parse_exports(text: str) -> dict[str, str]:
    """``export GIFTBRIDGE_NAME='value'`` lines -> {name: value} (other lines are skipped)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _EXPORT.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def running_sandbox(state_dir: Path) -> dict[str, str] | None:
    """The environment of the sandbox running on ``state_dir``'s data, or None when none runs
    (its lock is free) or its settings file is incomplete."""
    data = state_dir / DATA_DIR
    lock = data / LOCK_NAME
    if not lock.exists():
        return None
    fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: a sandbox runs
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
    finally:
        os.close(fd)
    try:
        environment = parse_exports((data / RUNNING_ENV).read_text("utf-8"))
    except OSError:
        return None
    return environment if len(environment) >= EXPECTED_LINES else None


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
    """``process`` is None when the stand-ins were already running (not ours to stop)."""

    process: subprocess.Popen[bytes] | None
    environment: dict[str, str]
    log_path: Path | None = field(default=None)

    @property
    def shared(self) -> bool:
        return self.process is None

    @classmethod
    def start(
        cls,
        state_dir: Path,
        *,
        demo: bool,
        currency: str = "USD",
        timeout: float = 30.0,
        quiet: bool = False,
    ) -> EmbeddedSandbox:
        """The sandbox already running on ``state_dir``, or a child on ports 8701-8703, or on
        free ones when those are taken (also when another process takes them between our look
        and the child's bind)."""
        running = running_sandbox(state_dir)
        if running is not None:
            return cls(None, running)
        try:
            if _ports_free(DEFAULT_PORT_BASE):
                try:
                    return cls._start(state_dir, DEFAULT_PORT_BASE, demo, currency, timeout, quiet)
                except PortsTaken:
                    pass
            return cls._start(state_dir, 0, demo, currency, timeout, quiet)
        except SandboxBusy:  # another one started meanwhile: use it
            running = running_sandbox(state_dir)
            if running is None:
                raise
            return cls(None, running)

    @classmethod
    def _start(
        cls,
        state_dir: Path,
        port_base: int,
        demo: bool,
        currency: str,
        timeout: float,
        quiet: bool,
    ) -> EmbeddedSandbox:
        command = sandbox_command(["--port-base", str(port_base), *(["--demo"] if demo else [])])
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBRIDGE_")}
        env.update(GIFTBRIDGE_STATE_DIR=str(state_dir), GIFTBRIDGE_CURRENCY=currency)
        if TOKEN_SECONDS_ENV in os.environ:
            env[TOKEN_SECONDS_ENV] = os.environ[TOKEN_SECONDS_ENV]
        log_path = state_dir / DATA_DIR / LOG_NAME if quiet else None
        stderr = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            stderr = open(log_path, "ab")  # noqa: SIM115 - the child keeps it; closed below
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True
            )
        finally:
            if stderr is not None:
                stderr.close()  # the child has its own copy
        sandbox = cls(process, {}, log_path)
        try:
            sandbox._read_environment(timeout)
        except BaseException:
            sandbox.stop()
            raise
        return sandbox

    def _read_environment(self, timeout: float) -> None:
        stdout = self.process.stdout if self.process is not None else None
        if self.process is None or stdout is None:
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
                if code == BUSY_EXIT:
                    raise SandboxBusy("another sandbox runs on this STATE_DIR")
                where = f"{self.log_path} says" if self.log_path else "its log lines above say"
                raise SandboxStartFailed(
                    f"the sandbox exited with code {code} before it was ready ({where} why)"
                )
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                match = _EXPORT.match(line.decode("utf-8", "replace").strip())
                if match:
                    self.environment[match.group(1)] = match.group(2)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop our child (a sandbox that was already running is left as it is)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
