"""systemd's notify protocol, without a dependency: one datagram to ``$NOTIFY_SOCKET``.

sd_notify(3): the manager names an AF_UNIX datagram socket in ``$NOTIFY_SOCKET`` (a leading ``@``
means the abstract namespace); a service sends newline-separated ``KEY=VALUE`` lines:
``READY=1`` when started, ``WATCHDOG=1`` as a keep-alive, ``STOPPING=1`` when shutting down,
``STATUS=...`` as a one-line status shown by ``systemctl status``. Outside systemd the variable is
unset and every send is a no-op, so the same code runs under a terminal, a test and the unit.

sd_watchdog_enabled(3): with ``WatchdogSec=`` the manager sets ``$WATCHDOG_USEC`` (and
``$WATCHDOG_PID``, which must be ours) and expects a ping within that interval; we ping every half
interval, and only while every prong makes progress (see :mod:`daemon.health`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

from config.settings import SettingsError

log = structlog.get_logger(__name__)


def _address(raw: str) -> str | None:
    if raw.startswith("@"):
        return "\0" + raw[1:]  # abstract namespace
    if raw.startswith("/"):
        return raw
    return None  # vsock and other forms are not used by giftbridge's unit


class Notifier:
    """Sends sd_notify messages; every method returns whether a datagram was sent."""

    def __init__(self, socket_path: str | None) -> None:
        self._address = _address(socket_path) if socket_path else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET") or None)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *lines: str) -> bool:
        if self._address is None:
            return False
        payload = "\n".join(lines).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self._address)
                sock.sendall(payload)
        except OSError as exc:
            # A lost notification must not take the service down; systemd acts on the silence.
            log.warning("sd_notify.failed", error=str(exc), message=lines[0] if lines else "")
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping: finishing in-flight runs")

    def status(self, text: str) -> bool:
        return self.send("STATUS=" + text.replace("\n", " "))


def watchdog_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog interval systemd asks for, or None when no watchdog applies to us."""
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "").strip()
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID", "").strip()
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (e.g. a parent shell)
    try:
        usec = int(raw)
    except ValueError:
        log.warning("sd_notify.bad_watchdog_usec", value=raw)
        return None
    return usec / 1_000_000 if usec > 0 else None


def check_timing(
    *,
    call_timeout: float,
    run_budget: float,
    lease: float,
    watchdog: float | None,
) -> None:
    """DESIGN.md: call timeout < run budget < lease time < watchdog interval, at start.

    Settings already checks the first three; the watchdog interval is only known here.
    """
    if not call_timeout < run_budget < lease:
        raise SettingsError(
            "timeouts out of order: need GIFTBRIDGE_CALL_TIMEOUT_SECONDS "
            f"({call_timeout:g}) < GIFTBRIDGE_RUN_BUDGET_SECONDS ({run_budget:g}) < "
            f"GIFTBRIDGE_LEASE_SECONDS ({lease:g})"
        )
    if watchdog is not None and not lease < watchdog:
        raise SettingsError(
            f"the systemd watchdog interval ({watchdog:g} s, WatchdogSec=) must exceed "
            f"GIFTBRIDGE_LEASE_SECONDS ({lease:g}): raise WatchdogSec= (several lease lengths)"
        )
