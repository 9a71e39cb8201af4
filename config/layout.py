"""A typed view of the base layout: every table and field name giftbridge uses, in one place.

Generated from ``config/airtable-base.json`` and checked against it by a test; no other module
spells a table or field name as a bare string. :func:`load_layout` reads the JSON (at call time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar


class Table:
    """Base of the per-table constant classes: ``TABLE`` is the table's name."""

    TABLE: ClassVar[str]


class Stores(Table):
    TABLE: ClassVar[str] = "Stores"
    NAME: ClassVar[str] = "Name"
    EMAIL: ClassVar[str] = "Email"
    LOCATION_CODE: ClassVar[str] = "Location Code"
    ACTIVE: ClassVar[str] = "Active"


class GiftCards(Table):
    TABLE: ClassVar[str] = "Gift Cards"
    MASKED_CODE: ClassVar[str] = "Masked Code"
    LAST_CHARACTERS: ClassVar[str] = "Last Characters"
    CODE_DIGEST: ClassVar[str] = "Code Digest"
    CODE_SEALED: ClassVar[str] = "Code Sealed"
    SHOPIFY_GIFT_CARD_ID: ClassVar[str] = "Shopify Gift Card ID"
    ORIGIN_KEY: ClassVar[str] = "Origin Key"
    STATUS: ClassVar[str] = "Status"
    KIND: ClassVar[str] = "Kind"
    CURRENCY: ClassVar[str] = "Currency"
    INITIAL_VALUE: ClassVar[str] = "Initial Value"
    BALANCE: ClassVar[str] = "Balance"
    SOURCE: ClassVar[str] = "Source"
    STORE: ClassVar[str] = "Store"
    ISSUED_AT: ClassVar[str] = "Issued At"
    EXPIRES_ON: ClassVar[str] = "Expires On"
    LAST_ACTIVITY_AT: ClassVar[str] = "Last Activity At"
    PURCHASER_NAME: ClassVar[str] = "Purchaser Name"
    PURCHASER_EMAIL: ClassVar[str] = "Purchaser Email"
    RECIPIENT_NAME: ClassVar[str] = "Recipient Name"
    RECIPIENT_EMAIL: ClassVar[str] = "Recipient Email"
    MESSAGE: ClassVar[str] = "Message"
    THEME: ClassVar[str] = "Theme"
    SHOPIFY_ORDER: ClassVar[str] = "Shopify Order"
    CERTIFICATE: ClassVar[str] = "Certificate"
    VOID_REASON: ClassVar[str] = "Void Reason"
    LAST_SYNCED_AT: ClassVar[str] = "Last Synced At"


class StoreRedemptions(Table):
    TABLE: ClassVar[str] = "Store Redemptions"
    CODE: ClassVar[str] = "Code"
    STORE: ClassVar[str] = "Store"
    AMOUNT: ClassVar[str] = "Amount"
    ORDER_TOTAL: ClassVar[str] = "Order Total"
    STAFF_NAME: ClassVar[str] = "Staff Name"
    STATUS: ClassVar[str] = "Status"
    OUTCOME: ClassVar[str] = "Outcome"
    GIFT_CARD: ClassVar[str] = "Gift Card"
    BALANCE_AFTER: ClassVar[str] = "Balance After"
    SHOPIFY_TRANSACTION_ID: ClassVar[str] = "Shopify Transaction ID"
    RESULT_MESSAGE: ClassVar[str] = "Result Message"
    PROCESSED_AT: ClassVar[str] = "Processed At"


class CreationRequests(Table):
    TABLE: ClassVar[str] = "Creation Requests"
    PURCHASER_NAME: ClassVar[str] = "Purchaser Name"
    PURCHASER_EMAIL: ClassVar[str] = "Purchaser Email"
    RECIPIENT_NAME: ClassVar[str] = "Recipient Name"
    RECIPIENT_EMAIL: ClassVar[str] = "Recipient Email"
    IS_GIFT: ClassVar[str] = "Is Gift"
    MESSAGE: ClassVar[str] = "Message"
    AMOUNT: ClassVar[str] = "Amount"
    KIND: ClassVar[str] = "Kind"
    STORE: ClassVar[str] = "Store"
    THEME: ClassVar[str] = "Theme"
    CHANNEL: ClassVar[str] = "Channel"
    BATCH: ClassVar[str] = "Batch"
    IMPORT_KEY: ClassVar[str] = "Import Key"
    STATUS: ClassVar[str] = "Status"
    OUTCOME: ClassVar[str] = "Outcome"
    GIFT_CARD: ClassVar[str] = "Gift Card"
    RESULT_MESSAGE: ClassVar[str] = "Result Message"
    PROCESSED_AT: ClassVar[str] = "Processed At"


class BalanceChecks(Table):
    TABLE: ClassVar[str] = "Balance Checks"
    CODE: ClassVar[str] = "Code"
    EMAIL: ClassVar[str] = "Email"
    STATUS: ClassVar[str] = "Status"
    OUTCOME: ClassVar[str] = "Outcome"
    PROCESSED_AT: ClassVar[str] = "Processed At"
    RESULT_MESSAGE: ClassVar[str] = "Result Message"
    CODE_DIGEST: ClassVar[str] = "Code Digest"


class CardActions(Table):
    TABLE: ClassVar[str] = "Card Actions"
    REQUESTED_BY: ClassVar[str] = "Requested By"
    GIFT_CARD: ClassVar[str] = "Gift Card"
    ACTION: ClassVar[str] = "Action"
    REASON: ClassVar[str] = "Reason"
    AMOUNT: ClassVar[str] = "Amount"
    NEW_EXPIRY: ClassVar[str] = "New Expiry"
    STATUS: ClassVar[str] = "Status"
    OUTCOME: ClassVar[str] = "Outcome"
    RESULT_MESSAGE: ClassVar[str] = "Result Message"
    PROCESSED_AT: ClassVar[str] = "Processed At"


class Receipts(Table):
    TABLE: ClassVar[str] = "Receipts"
    REFERENCE: ClassVar[str] = "Reference"
    ACTION: ClassVar[str] = "Action"
    GIFT_CARD: ClassVar[str] = "Gift Card"
    STORE: ClassVar[str] = "Store"
    AMOUNT: ClassVar[str] = "Amount"
    BALANCE_BEFORE: ClassVar[str] = "Balance Before"
    BALANCE_AFTER: ClassVar[str] = "Balance After"
    SOURCE: ClassVar[str] = "Source"
    REQUEST: ClassVar[str] = "Request"
    SHOPIFY_REFERENCE: ClassVar[str] = "Shopify Reference"
    DETAILS: ClassVar[str] = "Details"
    AT: ClassVar[str] = "At"


class ShopifyOrders(Table):
    TABLE: ClassVar[str] = "Shopify Orders"
    ORDER_ID: ClassVar[str] = "Order ID"
    ORDER_NAME: ClassVar[str] = "Order Name"
    KIND: ClassVar[str] = "Kind"
    GIFT_CARDS: ClassVar[str] = "Gift Cards"
    OUTCOME: ClassVar[str] = "Outcome"
    PROCESSED_AT: ClassVar[str] = "Processed At"


class Status(Table):
    TABLE: ClassVar[str] = "Status"
    PRONG: ClassVar[str] = "Prong"
    STATE: ClassVar[str] = "State"
    OWNER: ClassVar[str] = "Owner"
    LEASE_EXPIRES_AT: ClassVar[str] = "Lease Expires At"
    HEARTBEAT_AT: ClassVar[str] = "Heartbeat At"
    LAST_STARTED_AT: ClassVar[str] = "Last Started At"
    LAST_FINISHED_AT: ClassVar[str] = "Last Finished At"
    LAST_SUCCESS_AT: ClassVar[str] = "Last Success At"
    LAST_RUN_PROCESSED: ClassVar[str] = "Last Run Processed"
    LAST_ERROR: ClassVar[str] = "Last Error"


TABLES: tuple[type[Table], ...] = (
    Stores,
    GiftCards,
    StoreRedemptions,
    CreationRequests,
    BalanceChecks,
    CardActions,
    Receipts,
    ShopifyOrders,
    Status,
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    options: dict[str, Any]

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(c["name"] for c in self.options.get("choices", ()))


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    description: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def links(self) -> tuple[str, ...]:
        """Names of the tables this one links to."""
        return tuple(
            f.options["linkedTable"] for f in self.fields if f.type == "multipleRecordLinks"
        )


def load_layout() -> tuple[TableSpec, ...]:
    """The base layout shipped inside the installed package."""
    text = resources.files("config").joinpath("airtable-base.json").read_text("utf-8")
    return tuple(
        TableSpec(
            t["name"],
            t.get("description", ""),
            tuple(FieldSpec(f["name"], f["type"], dict(f.get("options", {}))) for f in t["fields"]),
        )
        for t in json.loads(text)["tables"]
    )


def table_spec(name: str) -> TableSpec:
    for spec in load_layout():
        if spec.name == name:
            return spec
    raise KeyError(f"the layout has no table {name!r}")
