"""The go-live rehearsal's rows (``giftbridge check --rehearse``): one test row in each request
table, written and deleted at once, to prove the token may write and delete records there.

A test row is born final (Status Rejected), so no prong ever takes it for a request, and carries
a marker in a text field (``giftbridge rehearsal <run>``), so the rows an interrupted rehearsal
left behind can be found and deleted by the next one.
"""

from __future__ import annotations

from typing import Any

from pyairtable.formulas import EQ, LEFT, Field

from cards.vocab import RequestStatus
from clients.airtable_columns import Changes
from clients.airtable_tables import AirtableTables
from clients.errors import Permanent
from config.layout import BalanceChecks, CardActions, CreationRequests, StoreRedemptions

MARKER = "giftbridge rehearsal "
#: The request tables, each with the text field that carries the marker.
MARKER_FIELDS = {
    StoreRedemptions.TABLE: StoreRedemptions.STAFF_NAME,
    CreationRequests.TABLE: CreationRequests.PURCHASER_NAME,
    BalanceChecks.TABLE: BalanceChecks.CODE,
    CardActions.TABLE: CardActions.REQUESTED_BY,
}
_RESULT_MESSAGE = {
    StoreRedemptions.TABLE: StoreRedemptions.RESULT_MESSAGE,
    CreationRequests.TABLE: CreationRequests.RESULT_MESSAGE,
    CardActions.TABLE: CardActions.RESULT_MESSAGE,
}


class RehearsalRows:
    """Write, find and delete the rehearsal's test rows, through the adapter's limiter and
    retry policy."""

    def __init__(self, tables: AirtableTables) -> None:
        self._t = tables

    def close(self) -> None:
        self._t.api.session.close()

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(MARKER_FIELDS)

    def write_test_row(self, table: str, run: str) -> str:
        """Create the run's test row in ``table`` (final from birth); its record id."""
        changes: dict[str, Any] = {
            MARKER_FIELDS[table]: MARKER + run,
            "Status": RequestStatus.REJECTED,
        }
        if table in _RESULT_MESSAGE:
            changes[_RESULT_MESSAGE[table]] = (
                "A test row of giftbridge's go-live rehearsal: deleted at once, never processed."
            )
        fields: Changes = changes
        return str(self._t.create(table, fields)["id"])

    def delete_row(self, table: str, record_id: str) -> None:
        """Delete one row; a row already gone is fine (safe to repeat)."""
        try:
            self._t.write(
                lambda: self._t.table(table).delete(record_id),
                f"delete {table}",
                idempotent=True,
            )
        except Permanent as exc:
            if exc.status != 404:
                raise

    def leftover_rows(self, table: str) -> list[str]:
        """Record ids of every rehearsal's test rows still in ``table``."""
        field = MARKER_FIELDS[table]
        formula = EQ(LEFT(Field(field), len(MARKER)), MARKER)
        records = self._t.list_records(table, formula=formula, fields=[field])
        return [str(r["id"]) for r in records]
