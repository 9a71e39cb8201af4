"""``giftbridge cards import|export``: bulk issuance from a CSV file, and every card as CSV
(DESIGN.md, Bulk issuance). The commands are :mod:`daemon.cards_import` and
:mod:`daemon.cards_export`; this module hangs them under the CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from clients.retry import RetryPolicy
from config.settings import Settings
from daemon import cards_export, cards_import
from prongs.bulk_import import ImportRefused

#: A bulk command waits out an Airtable 429 (30 s of silence) instead of failing.
BULK_RETRY = RetryPolicy(attempts=6, deadline=120.0)
Load = Callable[[argparse.Namespace], Settings]


def refusals_reported(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """A refusal is one line on stderr and exit status 1 (no traceback: nothing went wrong)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ImportRefused as exc:
            print(f"giftbridge cards {args.cards_command}: {exc}", file=sys.stderr)
            return 1

    return run


def add_parser(add: Callable[..., Any], common: argparse.ArgumentParser, load: Load) -> None:
    """``cards import|export`` under the CLI's commands: ``add`` is the CLI's sub-command maker,
    ``load`` its settings loader (logging configured)."""
    cards = add("cards", _needs_action, "bulk issuance from a CSV file, and every card as CSV")
    actions = cards.add_subparsers(dest="cards_command", metavar="ACTION", required=True)
    text = "issue a card per row of a CSV file (one Creation Request per row, Channel Bulk)"
    importer = actions.add_parser("import", parents=[common], help=text, description=text)
    importer.set_defaults(
        handler=refusals_reported(lambda a: cards_import.cmd_import(a, load(a), BULK_RETRY))
    )
    importer.add_argument("file", metavar="FILE.csv", help=_COLUMNS_HELP)
    importer.add_argument("--store", metavar="NAME", help="link every card to this Active store")
    importer.add_argument(
        "--dry-run", action="store_true", help="check every row and say what would be created"
    )
    importer.add_argument("--no-wait", action="store_true", help="return once the rows are written")
    importer.add_argument(
        "--yes", action="store_true", help="issue rows that repeat an earlier import, unasked"
    )
    text = "every card as CSV for accounting (masked codes only)"
    export = actions.add_parser("export", parents=[common], help=text, description=text)
    export.set_defaults(
        handler=refusals_reported(lambda a: cards_export.cmd_export(a, load(a), BULK_RETRY))
    )
    export.add_argument(
        "--status",
        type=cards_export.status_named,
        metavar="S",
        help="only cards in this status (Pending, Active, Redeemed, Voided, Expired)",
    )
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")


_COLUMNS_HELP = (
    "UTF-8, comma, semicolon or tab separated; header with recipient_name, recipient_email, "
    "amount and optionally message, theme, kind, purchaser_name, purchaser_email, is_gift"
)


def _needs_action(args: argparse.Namespace) -> int:
    raise ImportRefused("cards: name an action (import, export)")
