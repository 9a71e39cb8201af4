"""The ``giftbridge`` command (console script ``daemon.cli:main``)."""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from cards.vocab import Prong
from clients.errors import GiftbridgeError
from config.settings import Settings, SettingsError
from daemon import (
    audit_command,
    bootstrap,
    card_commands,
    cards_commands,
    check_command,
    report_command,
)
from daemon.embedded_sandbox import SandboxNotInstalled, sandbox_command
from daemon.health import RunResult
from daemon.lockfile import AlreadyRunning, LockFile
from daemon.logging import configure
from daemon.metrics import default_metrics
from daemon.runner import RunOutcome
from prongs.card_view import CardNotFound

log = structlog.get_logger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3

DESCRIPTION = """\
giftbridge keeps one gift card in step between Shopify, Airtable and Klaviyo.

commands:
  run          the daemon: every prong on its own schedule until SIGTERM or Ctrl-C;
               serves /healthz, /metrics and a status page on HTTP_HOST:HTTP_PORT
  once         one run of each prong (or of --prong NAME), in priority order, then exit;
               prints one line per prong (ran, skipped and why, or failed and why)
  sandbox      the local stand-ins for Airtable, Shopify and Klaviyo, in the foreground;
               prints `export GIFTBRIDGE_...` lines that point a daemon at them
  check        proves each credential with a real call (Airtable, Shopify, Klaviyo), the
               shop's currency, the token's scopes and the base layout; one line per
               problem; says "sandbox" when pointed at the local stand-ins
  check --rehearse  then the go-live rehearsal against the real services (a card made,
               spent and deactivated, test rows, one alert email); prints what each
               step proved
  base init    create the missing tables and fields of the Airtable base
               (select options Airtable cannot add are named: add them by hand)
  card show    one card: record, status, balance in Airtable and Shopify, recent
               transactions (by record id rec..., code or last 4 characters; the code
               stays masked)
  card search  cards by last 4 characters, holder or purchaser name or email, order,
               or status; says which field matched
  card pdf     the printable certificate with the full code, certificate-<last 4>.pdf
               (or --out FILE): for the card's holder only
  cards import a card per row of a CSV file (a company's order): every row checked first,
               then followed until issued (--store NAME, --dry-run, --no-wait)
  cards export every card as CSV for accounting, masked codes only (--status S, --out FILE)
  report       sales and liability: report.html with charts and a CSV per table, per
               currency (--from DATE --to DATE, --out DIR; default STATE_DIR/reports/)
  audit        compare the cards Shopify changed since the last audit (--full: every
               card) with Airtable, repair the mirror, record what Shopify did; exit 1
               when drift needs a person

Settings come from GIFTBRIDGE_* environment variables and .env; with none of the three
credentials set giftbridge runs against its sandbox (deploy/README.md connects a real shop).
"""

EPILOG = """\
exit codes:
  0  success (once: every prong ran, or was skipped for another owner's lease or Paused)
  1  a run failed, a check found a problem, or an unexpected error (details with --debug)
  2  invalid command line or settings (each variable named)
  3  another local giftbridge process holds the lock on STATE_DIR
"""


class _Failed(GiftbridgeError):
    """A one-line error the command reports with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _settings(args: argparse.Namespace, *, quiet: bool = False) -> Settings:
    """Settings, and logging configured. ``quiet`` (one-shot commands: check, card, base):
    no log lines, so an unreachable service is the command's own one line, not a page of retry
    logs (the command reports every failure itself); ``--debug`` shows everything."""
    settings = bootstrap.load()
    level = "DEBUG" if args.debug else ("CRITICAL" if quiet else "INFO")
    configure(secrets=bootstrap.log_secrets(settings), level=level)
    if not quiet:
        for warning in bootstrap.start_warnings(settings):
            log.warning("start.warning", message=warning)
    return settings


def _lock(settings: Settings) -> LockFile:
    try:
        return LockFile(bootstrap.state_dir(settings)).acquire()
    except AlreadyRunning as exc:
        raise _Failed(str(exc), EXIT_LOCKED) from None


# --- commands ------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _enable_faulthandler()
    lock = _lock(settings)
    try:
        assembly = bootstrap.assemble(settings, default_metrics(), http=True, demo=True)
        try:
            code = assembly.service.run()
        finally:
            assembly.close()
    finally:
        lock.release()
    if code != EXIT_OK:
        # A run thread did not stop in time; it cannot be killed and would block the exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _enable_faulthandler() -> None:
    """A watchdog SIGABRT then leaves every thread's stack in the journal."""
    try:
        faulthandler.enable(file=sys.__stderr__ or sys.stderr)
    except (AttributeError, ValueError, OSError):  # no real stderr (embedded, captured)
        log.debug("faulthandler.unavailable")


def describe(outcome: RunOutcome) -> str:
    """One line per prong for ``once``."""
    report = outcome.report
    if outcome.result is RunResult.SKIPPED:
        return f"{outcome.prong}: skipped: {outcome.detail}"
    if outcome.result is RunResult.FAILED:
        return f"{outcome.prong}: FAILED after {outcome.seconds:.1f} s: {outcome.detail}"
    if report is None or report.processed == 0:
        what = "nothing to do" if report is None or not report.found_work else "processed 0"
    else:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
        what = f"processed {report.processed} ({counts})"
    note = f"; {outcome.detail}" if outcome.detail else ""
    return f"{outcome.prong}: ran in {outcome.seconds:.1f} s, {what}{note}"


def cmd_once(args: argparse.Namespace) -> int:
    settings = _settings(args)
    lock = _lock(settings)
    try:
        assembly = bootstrap.assemble(settings, default_metrics(), http=False)
        try:
            wanted = [args.prong] if args.prong else None
            outcomes = assembly.service.run_once(wanted)
        finally:
            assembly.close()
    finally:
        lock.release()
    for outcome in outcomes:
        print(describe(outcome))
    expected = 1 if args.prong else len(assembly.service.jobs)
    if len(outcomes) < expected:
        print("stopped before every prong ran", file=sys.stderr)
        return EXIT_FAILED
    failed = any(o.result is RunResult.FAILED for o in outcomes)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Replaces this process with the sandbox's own (``python -m sandbox``): the daemon never
    imports the stand-ins, and the sandbox's stdout, stderr, signals and exit code are the
    command's own."""
    argv = ["--port-base", str(args.port_base)] if args.port_base is not None else []
    argv += ["--demo"] if args.demo else []
    argv += ["--token-seconds", str(args.token_seconds)] if args.token_seconds else []
    try:
        command = sandbox_command(argv)
    except SandboxNotInstalled as exc:
        raise _Failed(str(exc)) from None
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # noqa: S606 - our own interpreter and the sandbox's module


def cmd_base_init(args: argparse.Namespace) -> int:
    settings, stop_sandbox = bootstrap.connect(_settings(args, quiet=True), quiet=True)
    try:
        clients = bootstrap.build_clients(settings, default_metrics())
        try:
            if clients.base_admin is None:
                raise _Failed("no Metadata API adapter: cannot create tables")
            print(clients.base_admin.init())
        finally:
            clients.close()
    finally:
        stop_sandbox()
    return EXIT_OK


# --- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="debug logging, and full tracebacks instead of one-line errors",
    )
    parser = argparse.ArgumentParser(
        prog="giftbridge",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> Any:
        sub = commands.add_parser(
            name,
            help=text,
            description=text,
            epilog=EPILOG,
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    add("run", cmd_run, "run the daemon until SIGTERM or Ctrl-C")
    once = add("once", cmd_once, "run each prong once (or one prong) and exit")
    once.add_argument("--prong", choices=[p.value for p in Prong], help="only this prong")
    sandbox = add("sandbox", cmd_sandbox, "run the local stand-ins in the foreground")
    sandbox.add_argument(
        "--port-base",
        type=int,
        metavar="N",
        help="Airtable on N, Shopify on N+1, Klaviyo on N+2 (default 8701)",
    )
    sandbox.add_argument("--demo", action="store_true", help="add demo traffic")
    sandbox.add_argument(
        "--token-seconds",
        type=int,
        metavar="N",
        help="life of the stand-in Shopify's access tokens, 1 to 86399 (default 86399, as "
        "Shopify's; a few seconds shows renewal at work)",
    )
    check_command.add_parser(add, lambda args: _settings(args, quiet=True))
    base = add("base", _needs_subcommand, "manage the Airtable base")
    base_commands = base.add_subparsers(dest="base_command", metavar="ACTION", required=True)
    init_text = (
        "create the missing tables and fields of the Airtable base, in dependency order (never "
        "renames or drops; select options Airtable's API cannot add are named)"
    )
    init = base_commands.add_parser(
        "init", help="create missing tables and fields", description=init_text, parents=[common]
    )
    init.set_defaults(handler=cmd_base_init)
    card = add("card", _needs_card_action, "look at one card, or print its certificate")
    card_commands.add_actions(card, common, _card)
    cards_commands.add_parser(add, common, _settings)
    report_command.add_parser(add, _settings)
    audit_command.add_parser(add, _settings)
    return parser


def _needs_card_action(args: argparse.Namespace) -> int:
    raise _Failed("card: name an action (show, search, pdf)", EXIT_USAGE)


def _card(command: card_commands.Command, args: argparse.Namespace) -> int:
    try:
        return command(args, lambda: _settings(args, quiet=True))
    except card_commands.CardUsageError as exc:
        raise _Failed(f"card: {exc}", EXIT_USAGE) from None
    except (CardNotFound, card_commands.OutputRefused) as exc:
        raise _Failed(f"card: {exc}") from None


def _needs_subcommand(args: argparse.Namespace) -> int:
    raise _Failed("base: name an action (init)", EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.debug = getattr(args, "debug", False)
    try:
        code: int = args.handler(args)
        return code
    except _Failed as exc:
        return _report(args, exc, str(exc), exc.code)
    except SettingsError as exc:
        return _report(args, exc, str(exc), EXIT_USAGE)
    except bootstrap.PreflightFailed as exc:
        lines = "\n  ".join(exc.problems)
        return _report(args, exc, f"start checks failed:\n  {lines}", EXIT_FAILED)
    except KeyboardInterrupt:
        return _report(args, None, "interrupted", EXIT_FAILED)
    except Exception as exc:
        return _report(args, exc, f"{type(exc).__name__}: {exc}", EXIT_FAILED)


def _report(args: argparse.Namespace, exc: BaseException | None, line: str, code: int) -> int:
    if args.debug and exc is not None:
        traceback.print_exception(exc)
    print(f"giftbridge {args.command}: error: {line}", file=sys.stderr)
    return code
