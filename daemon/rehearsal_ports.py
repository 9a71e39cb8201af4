"""What the go-live rehearsal (``daemon/rehearsal.py``) works with: its values, the narrow ports
it calls (the real adapters satisfy them; ``bootstrap.rehearsal_ports`` builds them) and its
journal, written before each outside effect so an interrupted run can be finished by the next.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from cards.codes import Code
from cards.money import Money
from clients.records import CardTransaction, EmailEvent, Receipt, ShopifyCard, TransactionResult

JOURNAL = "rehearsal.json"  # in STATE_DIR


@dataclass(frozen=True, slots=True)
class RehearsalSetup:
    amount: Money  # MIN_AMOUNT: the card's value
    unit: Money  # the currency's smallest unit: debited and credited back
    code_length: int
    code_key: str  # seals the code in the journal
    alert_email: str
    status_page: str  # the alert's link
    state_dir: Path


@runtime_checkable
class RehearsalShop(Protocol):
    def create_card(
        self, code: Code, initial_value: Money, note: str, expires_on: date | None
    ) -> ShopifyCard: ...

    def find_cards_by_code(self, code: Code) -> list[ShopifyCard]: ...

    def get_card(self, card_id: str) -> ShopifyCard | None: ...

    def debit(self, card_id: str, amount: Money, note: str) -> TransactionResult: ...

    def credit(self, card_id: str, amount: Money, note: str) -> TransactionResult: ...

    def find_transaction_by_note(
        self, card_id: str, note: str, since: datetime | None = None
    ) -> CardTransaction | None: ...

    def deactivate_card(self, card_id: str) -> ShopifyCard: ...


class RehearsalRows(Protocol):
    @property
    def tables(self) -> tuple[str, ...]: ...

    def write_test_row(self, table: str, run: str) -> str: ...

    def delete_row(self, table: str, record_id: str) -> None: ...

    def leftover_rows(self, table: str) -> list[str]: ...


class ReceiptWriter(Protocol):
    def upsert_receipts(self, receipts: Sequence[Receipt]) -> None: ...


class EmailSender(Protocol):
    def send(self, event: EmailEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class RehearsalPorts:
    shop: RehearsalShop
    rows: RehearsalRows
    receipts: ReceiptWriter
    email: EmailSender


@dataclass
class Journal:
    """What a run has set in motion, written before each outside effect."""

    path: Path
    run: str
    code_sealed: str | None = None
    card_id: str | None = None
    deactivated: bool = False

    @classmethod
    def load(cls, path: Path) -> Journal | None:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return cls(path, **{k: v for k, v in data.items() if k != "path"})

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        tmp.replace(self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
