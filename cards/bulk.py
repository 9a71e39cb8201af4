"""A bulk-issuance file checked row by row: pure, and ONE validation with every creation request.

Each CSV record (:mod:`cards.bulk_csv`) becomes a :class:`~cards.creation.CreationAsk` with
Channel Bulk and goes through :func:`cards.creation.validate_creation`, the rules the store prong
applies to every Creation Requests row (amount limits and precision, names, email addresses), so
a file that passes here is issued as checked. Before that, the checks only a file needs: required
cells present, ``amount`` a plain number, ``theme`` and ``kind`` among the base's options,
``is_gift`` a yes or a no. Every problem of every row is collected (never just the first), each
with its line, its column and the fix.

Who holds the card (DESIGN.md gives the columns, not their meaning; this is giftbridge's choice):

- The recipient always receives the code: ``recipient_name`` and ``recipient_email`` are required.
- ``is_gift`` yes: a gift from the purchaser (``purchaser_name`` required; with a
  ``purchaser_email`` the purchaser also gets a confirmation with the masked code, per card).
- ``is_gift`` no: the recipient's own card; the request is written with the recipient as the
  purchaser too (as a card sold to its holder is). Purchaser cells that name someone else are a
  problem, since the card would otherwise silently go to the purchaser.
- ``is_gift`` blank: yes when a purchaser is named, else no.

Two identical rows are both issued (an order may hold two cards for one person); a note names
them, so a slip can be caught before anything is created.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from cards.addresses import is_email
from cards.bulk_csv import REQUIRED, Problem, Record, read_table
from cards.creation import CreationAsk, CreationProblem, ValidCreation, validate_creation
from cards.money import Money, minor_unit_exponent
from cards.policy import AmountLimits
from cards.vocab import Channel, CreationOutcome, Kind, Theme

E = TypeVar("E", bound=StrEnum)
_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]{1,2}")  # 12,50 where the decimal mark is a comma
_YES = frozenset({"yes", "y", "true", "1", "x"})
_NO = frozenset({"no", "n", "false", "0"})


@dataclass(frozen=True, slots=True)
class BulkRow:
    """A row that passed every check: its line and what the Creation Requests row will hold."""

    line: int
    ask: CreationAsk
    valid: ValidCreation

    def import_key(self, batch: str) -> str:
        """DESIGN.md's Import Key: ``import:<batch>:<line>``."""
        return f"import:{batch}:{self.line}"

    def __repr__(self) -> str:  # names and addresses stay out of logs
        return f"BulkRow(line {self.line}, {self.valid.amount})"


@dataclass(frozen=True, slots=True)
class BulkFile:
    """A checked file: importable only when ``problems`` is empty."""

    batch: str
    delimiter_name: str
    rows: tuple[BulkRow, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    currency: str

    @property
    def total(self) -> Money:
        return sum((r.valid.amount for r in self.rows), Money.zero(self.currency))


def check_file(data: bytes, *, currency: str, limits: AmountLimits) -> BulkFile:
    """Read and check every row of ``data`` (the file's bytes)."""
    table = read_table(data)
    rows: list[BulkRow] = []
    problems = list(table.problems)
    # A header without a required column is one problem, not one per row.
    records = table.records if set(REQUIRED) <= table.columns else ()
    for record in records:
        checked = check_record(record, currency=currency, limits=limits)
        if isinstance(checked, BulkRow):
            rows.append(checked)
        else:
            problems.extend(checked)
    notes = [*table.notes, *_duplicates(table.records)]
    return BulkFile(
        table.batch, table.delimiter_name, tuple(rows), tuple(problems), tuple(notes), currency
    )


def check_record(record: Record, *, currency: str, limits: AmountLimits) -> BulkRow | list[Problem]:
    """One row: the file's own checks, then the shared creation rules."""
    line, problems = record.line, list[Problem]()
    for column in REQUIRED:
        if record.get(column) is None:
            problems.append(Problem(line, column, "The cell is empty.", "Fill it in."))
    amount = _amount(record, currency, problems)
    theme = _option(record, "theme", Theme, problems)
    kind = _option(record, "kind", Kind, problems)
    is_gift = _is_gift(record, problems)
    ask = _ask(record, amount, theme, kind, is_gift)
    if isinstance(ask, Problem):
        return [*problems, ask]
    valid = None
    for checked in _shared_checks(ask, currency, limits):
        if isinstance(checked, ValidCreation):
            valid = checked
        else:
            located = _located(record, ask, checked, limits)
            if all(p.column != located.column for p in problems):
                problems.append(located)
    if problems or valid is None:
        return problems
    return BulkRow(line, ask, valid)


def _shared_checks(
    ask: CreationAsk, currency: str, limits: AmountLimits
) -> list[ValidCreation | CreationProblem]:
    """:func:`validate_creation`'s answer; when it refused the amount (its first rule), also its
    answer about the rest of the row with an acceptable amount, so a row shows every problem."""
    checked = validate_creation(ask, currency=currency, limits=limits, portal_enabled=True)
    if isinstance(checked, CreationProblem) and checked.outcome == CreationOutcome.INVALID_AMOUNT:
        rest = replace(ask, amount=limits.minimum.amount)
        again = validate_creation(rest, currency=currency, limits=limits, portal_enabled=True)
        return [checked] if isinstance(again, ValidCreation) else [checked, again]
    return [checked]


def _amount(record: Record, currency: str, problems: list[Problem]) -> Decimal | None:
    text = record.get("amount")
    if text is None:
        return None
    plain = text.replace(",", ".") if _COMMA_DECIMAL.fullmatch(text) else text
    if _PLAIN.fullmatch(plain):
        try:
            return Decimal(plain)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            pass
    decimals = minor_unit_exponent(currency)
    example = f"25.{'0' * decimals}" if decimals else "25"
    problems.append(
        Problem(
            record.line,
            "amount",
            f"{text!r} is not a plain number.",
            f"Write it like {example}: no currency sign, no thousands separator "
            f"(cards are in {currency}).",
        )
    )
    return None


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.casefold())


def _option(record: Record, column: str, options: type[E], problems: list[Problem]) -> E | None:
    text = record.get(column)
    if text is None:
        return None
    for option in options:
        if _key(option.value) == _key(text):
            return option
    allowed = ", ".join(o.value for o in options)
    problems.append(
        Problem(record.line, column, f"{text!r} is not a {column}.", f"Use one of: {allowed}.")
    )
    return None


def _is_gift(record: Record, problems: list[Problem]) -> bool | None:
    text = record.get("is_gift")
    if text is None:
        return None
    if text.casefold() in _YES:
        return True
    if text.casefold() in _NO:
        return False
    problems.append(
        Problem(
            record.line,
            "is_gift",
            f"{text!r} is neither yes nor no.",
            "Write yes or no (or leave it empty: yes when a purchaser is named).",
        )
    )
    return None


def _ask(
    record: Record,
    amount: Decimal | None,
    theme: Theme | None,
    kind: Kind | None,
    gift: bool | None,
) -> CreationAsk | Problem:
    name, email = record.get("recipient_name"), record.get("recipient_email")
    buyer, buyer_email = record.get("purchaser_name"), record.get("purchaser_email")
    is_gift = gift if gift is not None else (buyer is not None or buyer_email is not None)
    if not is_gift:
        if (buyer and buyer != name) or (buyer_email and buyer_email.casefold() != (email or "")):
            return Problem(
                record.line,
                "is_gift",
                "is_gift is no, but the purchaser is not the recipient.",
                "Write yes for a gift from the purchaser, or empty the purchaser cells.",
            )
        buyer, buyer_email = name, email
    return CreationAsk(
        amount=amount,
        purchaser_name=buyer,
        purchaser_email=buyer_email,
        recipient_name=name,
        recipient_email=email,
        is_gift=is_gift,
        channel=Channel.BULK,
        message=record.get("message"),
        kind=kind,
        theme=theme,
    )


def _located(
    record: Record, ask: CreationAsk, problem: CreationProblem, limits: AmountLimits
) -> Problem:
    """The shared rule's refusal, pinned to the column it concerns, with the fix."""
    line = record.line
    if problem.outcome == CreationOutcome.INVALID_AMOUNT:
        fix = f"Use an amount from {limits.minimum} to {limits.maximum}."
        return Problem(line, "amount", problem.message, fix)
    if problem.outcome == CreationOutcome.INVALID_EMAIL:
        buyer_email = ask.purchaser_email if ask.is_gift else None
        column = (
            "purchaser_email" if buyer_email and not is_email(buyer_email) else "recipient_email"
        )
        return Problem(line, column, problem.message, "Correct the address.")
    if ask.is_gift and not ask.purchaser_name:
        fix = "Name who the gift is from, or write no in is_gift."
        return Problem(line, "purchaser_name", problem.message, fix)
    empty = next((c for c in ("recipient_name", "recipient_email") if not record.get(c)), None)
    return Problem(line, empty, problem.message, "Fill it in.")


def _duplicates(records: Sequence[Record]) -> list[str]:
    first: dict[tuple[tuple[str, str], ...], int] = {}
    notes = []
    for record in records:
        key = tuple(sorted(record.cells.items()))
        if key in first:
            notes.append(
                f"lines {first[key]} and {record.line} are the same: both are issued "
                "(delete one if that is a slip)"
            )
        else:
            first[key] = record.line
    return notes
