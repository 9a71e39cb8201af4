"""The sandbox's process (``python -m sandbox``, ``giftbridge-sandbox``, and what
``giftbridge sandbox`` runs): the three stand-ins in the foreground, until interrupted.

stdout carries only ``export GIFTBRIDGE_NAME='value'`` lines (URLs, credentials, base id, shop,
pepper, key), so ``eval "$(giftbridge sandbox)"`` or a parent process reading them points a
daemon at it; logs go to stderr. Data persists in ``STATE_DIR/sandbox/`` across restarts; while
it runs, ``STATE_DIR/sandbox/sandbox.env`` holds the same lines and a second sandbox on the same
data refuses to start (exit 3). Shopify's tokens (client credentials grant) live
``--token-seconds`` (``GIFTBRIDGE_SANDBOX_TOKEN_SECONDS``, default 86399, as Shopify's).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from sandbox.shopify.oauth import DEFAULT_LIFE
from sandbox.stack import DEFAULT_PORT_BASE, SandboxBusy, start

log = logging.getLogger("giftbridge.sandbox")
PORTS_TAKEN_EXIT = 2  # the embedded sandbox (daemon.embedded_sandbox) retries on free ports
BUSY_EXIT = 3  # another sandbox runs on this data: the embedded sandbox uses that one
TOKEN_SECONDS_ENV = "GIFTBRIDGE_SANDBOX_TOKEN_SECONDS"


def _token_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 1 <= value <= 86399:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: 1 to 86399")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="giftbridge sandbox", description=__doc__)
    parser.add_argument(
        "--port-base",
        type=int,
        default=DEFAULT_PORT_BASE,
        help="Airtable on N, Shopify on N+1, Klaviyo on N+2 (default 8701)",
    )
    parser.add_argument("--demo", action="store_true", help="add demo traffic")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("GIFTBRIDGE_STATE_DIR", "./state")),
        help="data and credentials go to DIR/sandbox (default $GIFTBRIDGE_STATE_DIR or ./state)",
    )
    parser.add_argument(
        "--token-seconds",
        type=_token_seconds,
        default=os.environ.get(TOKEN_SECONDS_ENV, str(DEFAULT_LIFE)),
        metavar="N",
        help="life of Shopify's access tokens from the client credentials grant, 1 to 86399 "
        f"(default ${TOKEN_SECONDS_ENV} or {DEFAULT_LIFE}, as Shopify's)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s sandbox %(levelname)s %(message)s",
    )
    currency = os.environ.get("GIFTBRIDGE_CURRENCY", "USD")
    try:
        sandbox = start(
            args.state_dir, args.port_base, currency=currency, token_life=args.token_seconds
        )
    except SandboxBusy as exc:
        print(f"giftbridge sandbox: {exc}; stop it first", file=sys.stderr)
        return BUSY_EXIT
    except OSError as exc:
        print(
            f"giftbridge sandbox: cannot listen on ports {args.port_base}.."
            f"{args.port_base + 2}: {exc.strerror} (use --port-base N)",
            file=sys.stderr,
        )
        return PORTS_TAKEN_EXIT
    for line in sandbox.export_lines():
        print(line)
    sys.stdout.flush()
    log.info(
        "Airtable %s, Shopify %s, Klaviyo %s; data in %s",
        *(t.url for t in sandbox.threads),
        args.state_dir / "sandbox",
    )
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    demo = None
    if args.demo:
        from sandbox.demo import DemoTraffic  # only with --demo

        demo = DemoTraffic(sandbox)
    try:
        while not stop.wait(1.0):
            if demo is not None:
                demo.step()
            sandbox.airtable.save_snapshot()
    finally:
        sandbox.stop()
        log.info("stopped")
    return 0
