"""``giftbridge card show|search|pdf``: look at one card, find cards (by text, or those expiring
within some days), or print a card's certificate with the full code."""

from __future__ import annotations

import argparse
import errno
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cards.codes import mask_last4
from cards.money import Money
from clients.records import CardRow, ShopifyCard
from config.settings import Settings
from daemon import bootstrap
from daemon.metrics import default_metrics
from prongs import card_view, expiry_dates
from prongs.deps import CardConfig, Deps


@contextmanager
def _deps(settings_loader: Callable[[], Settings]) -> Iterator[tuple[Deps, CardConfig]]:
    settings, stop_sandbox = bootstrap.connect(settings_loader())
    try:
        clients = bootstrap.build_clients(settings, default_metrics())
        try:
            yield clients.deps(), bootstrap.card_config(settings)
        finally:
            clients.close()
    finally:
        stop_sandbox()


def describe(view: card_view.CardView) -> list[str]:
    """Lines a person reads; never the code, only its masked form."""
    row, card = view.row, view.shopify
    lines = [_title(row, card)]

    def add(name: str, value: object) -> None:
        if value not in (None, "", ()):
            lines.append(f"  {name:<13}{value}")

    if row is not None:
        add("status", row.status.value if row.status else "(blank)")
        add("balance", row.balance)
        add("initial value", row.initial_value)
        add("expires", row.expires_on.isoformat() if row.expires_on else "does not expire")
        add("source", row.source.value if row.source else None)
        add("stores", ", ".join(row.store_ids))
        add("issued at", row.issued_at.isoformat() if row.issued_at else None)
        add("last activity", row.last_activity_at.isoformat() if row.last_activity_at else None)
        add("holder", _person(row.recipient_name, row.recipient_email))
        add("purchaser", _person(row.purchaser_name, row.purchaser_email))
        add("shopify order", row.shopify_order)
        add("origin key", row.origin_key)
        add("void reason", row.void_reason)
    if card is not None:
        state = "enabled" if card.enabled else "deactivated"
        add("shopify", f"{card.id} ({state}), balance {card.balance}")
        if row is not None and row.balance is not None and row.balance != card.balance:
            lines.append(
                "  note         the Airtable balance differs from Shopify's: Shopify's "
                "is authoritative; the next action on the card refreshes it"
            )
    for txn in view.transactions:
        lines.append(
            f"    {txn.processed_at.isoformat()}  {txn.kind.value:<6} {txn.amount}"
            f"  {txn.note or ''}".rstrip()
        )
    return lines


def _title(row: CardRow | None, card: ShopifyCard | None) -> str:
    masked = (
        row.masked_code
        if row and row.masked_code
        else mask_last4(card.last_characters)
        if card
        else "?"
    )
    if row is None:
        return f"{masked}: a Shopify card giftbridge has not recorded yet"
    kind = row.kind.value if row.kind else "Gift Card"
    theme = f", {row.theme.value} theme" if row.theme else ""
    return f"{row.id}  {masked}  ({kind}{theme})"


def _person(name: str | None, email: str | None) -> str | None:
    if not name and not email:
        return None
    return f"{name or ''} <{email}>".strip() if email else name


def cmd_show(args: argparse.Namespace, load: Callable[[], Settings]) -> int:
    with _deps(load) as (deps, config):
        view, _ = card_view.find(deps, config, args.card)
    print("\n".join(describe(view)))
    return 0


def summary(row: CardRow) -> str:
    """One line per card for ``card search``."""
    status = row.status.value if row.status else "(blank)"
    balance = str(row.balance) if row.balance is not None else "-"
    holder = row.recipient_email or row.purchaser_email or ""
    return f"{row.id}  {row.masked_code or '?':<14}{status:<10}{balance:>14}  {holder}".rstrip()


def cmd_search(args: argparse.Namespace, load: Callable[[], Settings]) -> int:
    if args.expiring is not None:
        if args.text:
            raise card_view.CardNotFound("give TEXT or --expiring DAYS, not both")
        with _deps(load) as (deps, _):
            due = expiry_dates.cards_expiring_within(deps, args.expiring, args.limit)
        print("\n".join(expiring_lines(due)))
        return 0
    text = (args.text or "").strip()
    if len(text) < 3:
        raise card_view.CardNotFound("search for at least 3 characters (or --expiring DAYS)")
    with _deps(load) as (deps, _):
        found = deps.airtable.search_cards(text, limit=args.limit)
    for row in found:
        print(summary(row))
    print(
        f"{len(found)} card(s)"
        + (" (limit reached: --limit N)" if len(found) == args.limit else "")
    )
    return 0


def expiring_lines(due: expiry_dates.ExpiringCards) -> list[str]:
    """``card search --expiring``: one line per card with its date and days left, soonest
    first, then the total left on them per currency."""
    today = due.day.today
    lines = []
    totals: dict[str, Money] = {}
    for row in due.cards:
        left = (row.expires_on - today).days if row.expires_on else 0
        when = "overdue" if left < 0 else "today" if left == 0 else f"in {left} d"
        expires = row.expires_on.isoformat() if row.expires_on else "?"
        lines.append(f"{summary(row)}  expires {expires} ({when})")
        if row.balance is not None:
            currency = row.balance.currency
            totals[currency] = totals.get(currency, Money.zero(currency)) + row.balance
    owed = ", ".join(str(t) for t in totals.values()) or "nothing"
    cap = " (limit reached: --limit N)" if due.limited else ""
    lines.append(
        f"{len(due.cards)} Active card(s) expiring by {due.last_day} "
        f"(the shop's today is {today}, {due.day.zone_name}){cap}; balance left: {owed}"
    )
    return lines


class OutputRefused(Exception):
    """The output path is not one the full code may be written to (one line for the user)."""


def cmd_pdf(args: argparse.Namespace, load: Callable[[], Settings]) -> int:
    if args.out:
        check_output(Path(args.out), force=args.force)  # before any outside call
    with _deps(load) as (deps, config):
        view, code = card_view.find(deps, config, args.card)
        pdf, name = card_view.printable_certificate(deps, config, view, code)
    out = Path(args.out) if args.out else Path(name)
    write_private_file(out, pdf, force=args.force)
    print(f"wrote {out} ({len(pdf)} bytes): it shows the full code, give it only to the holder")
    return 0


def check_output(out: Path, *, force: bool) -> None:
    """Refuse a symbolic link (whatever ``force`` says), or an existing file without ``force``."""
    try:
        found = out.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        raise OutputRefused(
            f"{out} is a symbolic link; the full code is written only to a new "
            "file of its own: choose another --out"
        )
    if not stat.S_ISREG(found.st_mode):
        raise OutputRefused(f"{out} is not a regular file: choose another --out")
    if not force:
        raise OutputRefused(f"{out} already exists: pass --force to overwrite it")


def write_private_file(out: Path, data: bytes, *, force: bool) -> None:
    """Write the file holding the full code, readable by its owner only (0600): never through
    a symbolic link (O_NOFOLLOW), and never over an existing file unless ``force`` (O_EXCL),
    so a link or file planted between the check and the write is refused too."""
    check_output(out, force=force)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        fd = os.open(out, flags, 0o600)
    except FileExistsError:
        raise OutputRefused(f"{out} already exists: pass --force to overwrite it") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputRefused(f"{out} is a symbolic link: choose another --out") from None
        raise OutputRefused(f"cannot write {out}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputRefused(f"{out} is not a regular file: choose another --out")
        os.fchmod(fd, 0o600)  # an overwritten file keeps its old mode otherwise
        handle.write(data)


Command = Callable[[argparse.Namespace, Callable[[], Settings]], int]


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 0 <= value <= 3650:
        raise argparse.ArgumentTypeError("DAYS must be from 0 to 3650")
    return value


def add_actions(
    card: argparse.ArgumentParser,
    common: argparse.ArgumentParser,
    run: Callable[[Command, argparse.Namespace], int],
) -> None:
    """``card show|search|pdf`` under ``card``; ``run`` calls a command with the settings."""
    actions = card.add_subparsers(dest="card_command", metavar="ACTION", required=True)

    def action(name: str, command: Command, text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, parents=[common], help=text)
        parser.set_defaults(handler=lambda args: run(command, args))
        return parser

    reference = "a Gift Cards record id (rec...) or the code"
    show = action(
        "show",
        cmd_show,
        "a card's record, Shopify balance and recent transactions (the code stays masked)",
    )
    show.add_argument("card", metavar="CARD", help=reference)
    search = action(
        "search",
        cmd_search,
        "cards whose last 4 characters, holder, purchaser, order or status match TEXT",
    )
    search.add_argument("text", metavar="TEXT", nargs="?", help="at least 3 characters, any case")
    search.add_argument(
        "--expiring",
        type=_days,
        metavar="DAYS",
        help="instead of TEXT: Active cards expiring within DAYS of the shop's today "
        "(and any past their date not yet marked), soonest first, with their balances",
    )
    search.add_argument("--limit", type=int, default=20, metavar="N", help="at most N cards")
    pdf = action(
        "pdf",
        cmd_pdf,
        "write the printable certificate with the full code (certificate-<last 4>.pdf)",
    )
    pdf.add_argument("card", metavar="CARD", help=reference)
    pdf.add_argument(
        "--out", metavar="FILE", help="where to write the PDF (never through a symbolic link)"
    )
    pdf.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (never a symbolic link)"
    )
