"""``giftbridge check [--rehearse]``: the settings, every credential proven by a real call
(``daemon/check.py``), then, with ``--rehearse``, the go-live rehearsal (``daemon/rehearsal.py``).

Prints what was proven (``ok: ...``) and one line per problem (``problem: ...``); exit 0, or 1
with problems. No log lines: the command reports every failure itself.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clients.retry import RetryPolicy
from config.settings import Mode, Settings, SettingsError
from daemon import bootstrap, bootstrap_check
from daemon.lockfile import AlreadyRunning, LockFile
from daemon.metrics import default_metrics
from daemon.notify import check_timing

EXIT_OK, EXIT_FAILED = 0, 1
#: check gives up on an unreachable service within seconds: two tries, not the daemon's budget.
CHECK_RETRY = RetryPolicy(attempts=2, deadline=5.0)
Loader = Callable[[argparse.Namespace], Settings]


def add_parser(add: Callable[..., Any], load: Loader) -> None:
    """``check`` under the CLI's commands: ``add`` makes the sub-command, ``load`` reads the
    settings (logging configured, quiet)."""
    check = add(
        "check",
        lambda args: cmd_check(args, load),
        "prove each credential with a real call (Airtable, Shopify, Klaviyo), the shop's "
        "currency, the token's scopes and the base layout; one line per problem",
    )
    check.add_argument(
        "--rehearse",
        action="store_true",
        help="then the go-live rehearsal: a MIN_AMOUNT card made, debited, credited and "
        "deactivated in Shopify, a test row written and deleted in each request table, one "
        "Giftbridge Alert to ALERT_EMAIL; prints what each step proved",
    )


def cmd_check(args: argparse.Namespace, load: Loader) -> int:
    from daemon import check as checks  # here: the adapters' libraries load for check only

    settings = load(args)
    if args.rehearse and settings.alert_email is None:
        raise SettingsError(
            "--rehearse sends one Giftbridge Alert to GIFTBRIDGE_ALERT_EMAIL, which is not set: "
            "set it to the operator's address"
        )
    print(f"check: {bootstrap_check.describe_target(settings)}")
    for warning in bootstrap.start_warnings(settings):
        if bootstrap.run_mode(settings) is not Mode.SANDBOX or "sandbox" not in warning:
            print(f"warning: {warning}")
    config = bootstrap.service_config(settings, http=False)
    check_timing(
        call_timeout=config.call_timeout_seconds,
        run_budget=config.run_budget_seconds,
        lease=config.lease_seconds,
        watchdog=None,
    )
    print("settings: valid")
    problems = _state_dir_problems(bootstrap.state_dir(settings))
    settings, stop_sandbox = bootstrap.connect(settings, quiet=True)
    try:
        plan = bootstrap_check.check_plan(settings)
        clients = bootstrap.build_clients(settings, default_metrics(), retry=CHECK_RETRY)
        try:
            found = checks.check_all(plan, clients)
            for line in found.proven:
                print(f"ok: {line}")
            problems += found.problems
            for problem in problems:
                print(f"problem: {problem}")
            if problems:
                return EXIT_FAILED
            print("check: everything giftbridge needs is in place")
            if args.rehearse:
                return _rehearse(settings, plan, clients)
        finally:
            clients.close()
    finally:
        stop_sandbox()
    return EXIT_OK


def _rehearse(
    settings: Settings, plan: bootstrap_check.CheckPlan, clients: bootstrap.Clients
) -> int:
    from daemon import rehearsal  # here: only --rehearse needs it

    setup = bootstrap_check.rehearsal_setup(settings)
    report = rehearsal.rehearse(setup, bootstrap_check.rehearsal_ports(settings, clients), print)
    return EXIT_OK if report.ok else EXIT_FAILED


def _state_dir_problems(state: Path) -> list[str]:
    try:
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        return [f"STATE_DIR {state} cannot be created: {exc.strerror}"]
    if not os.access(state, os.W_OK):
        return [f"STATE_DIR {state} is not writable by this user"]
    try:
        LockFile(state).acquire().release()
    except AlreadyRunning as exc:
        print(f"note: {exc}")  # a running daemon is not a problem for check
    return []
