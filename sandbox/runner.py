"""The sandbox's process (``python -m sandbox``, ``giftbridge-sandbox``, and what
``giftbridge sandbox`` runs): the three stand-ins in the foreground, until interrupted.

stdout carries only ``export GIFTBRIDGE_NAME='value'`` lines (URLs, credentials, base id, shop,
pepper, key), so ``eval "$(giftbridge sandbox)"`` or a parent process reading them points a
daemon at it; logs go to stderr. Data persists in ``STATE_DIR/sandbox/`` across restarts.
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

from sandbox.stack import DEFAULT_PORT_BASE, start

log = logging.getLogger("giftbridge.sandbox")


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
        "--state-dir", type=Path, default=Path(os.environ.get("GIFTBRIDGE_STATE_DIR", "./state"))
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
        sandbox = start(args.state_dir, args.port_base, currency=currency)
    except OSError as exc:
        print(
            f"giftbridge sandbox: cannot listen on ports {args.port_base}.."
            f"{args.port_base + 2}: {exc.strerror} (use --port-base N)",
            file=sys.stderr,
        )
        return 2  # the embedded sandbox (daemon.embedded_sandbox) retries on free ports
    for name, value in sandbox.environment().items():
        print(f"export {name}='{value}'")
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
