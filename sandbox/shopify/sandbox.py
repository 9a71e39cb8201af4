"""``ShopifySandbox``: the simulated shop, its rate limiter, faults, request log and snapshots.

Thread-safe: the HTTP service runs on its own event-loop thread while tests call the simulation
helpers and inspection methods from theirs; one re-entrant lock guards the shop state.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.faults import FaultPlan
from sandbox.httpkit import RequestLog, write_json_atomically
from sandbox.shopify import checkout, executor
from sandbox.shopify.cost import LeakyBucket
from sandbox.shopify.giftcards import CardRules, issue_card, record_transaction
from sandbox.shopify.oauth import DEFAULT_LIFE, Tokens
from sandbox.shopify.state import (
    CardTransaction,
    GiftCard,
    Order,
    OrderTransaction,
    ShopState,
    dump_state,
    load_state,
    parse_gid,
)
from sandbox.shopify.summaries import state_json
from sandbox.shopify.view_context import Context

DEFAULT_SCOPES = ("read_gift_cards", "write_gift_cards", "read_gift_card_transactions",
                  "write_gift_card_transactions", "read_orders", "write_orders")


@dataclass(frozen=True)
class OperationRecord:
    """One GraphQL request as the sandbox saw it (``log`` holds the HTTP-level view)."""

    at: datetime
    operation_name: str | None
    root_field: str | None  # the fault operation is "shopify.<root_field>"
    outcome: str  # ok | errors | throttled | max_cost | unauthorized | fault
    requested_cost: int
    actual_cost: int | None
    duration_ms: float
    fault: str | None = None  # the fault rule applied (fail_before, drop_after, delay, throttle)


class ShopifySandbox:
    """``access_token``: a legacy custom app's static token (None: none is accepted);
    ``client_id``/``client_secret``: a Dev Dashboard app's, whose tokens from the client
    credentials grant (``sandbox/shopify/oauth.py``) live ``token_life`` seconds."""

    def __init__(self, access_token: str | None = "shpat_giftbridge_sandbox",  # noqa: S107
                 shop_domain: str = "giftbridge-sandbox.myshopify.com", currency: str = "USD",
                 scopes: Iterable[str] = DEFAULT_SCOPES, bucket_size: float = 1000.0,
                 restore_rate: float = 50.0, *, shop_name: str = "giftbridge sandbox",
                 issue_limit: Decimal | str = Decimal("9999.99"), max_query_cost: int = 1000,
                 receipt_json_as_string: bool = True, faults: FaultPlan | None = None,
                 snapshot_path: Path | str | None = None,
                 clock: Callable[[], datetime] | None = None,
                 timezone: str = "Etc/UTC", client_id: str | None = None,
                 client_secret: str | None = None, token_life: float = DEFAULT_LIFE) -> None:
        self.access_token, self.shop_domain, self.shop_name = access_token, shop_domain, shop_name
        self.timezone = timezone  # shop.ianaTimezone (an IANA name); tests may change it
        self.currency = currency
        self.scopes = frozenset(scopes)
        self.tokens = Tokens(client_id, client_secret, tuple(sorted(self.scopes)), token_life)
        self.rules = CardRules(currency, Decimal(issue_limit))
        self.bucket = LeakyBucket(bucket_size, restore_rate)
        self.max_query_cost = max_query_cost
        self.receipt_json_as_string = receipt_json_as_string
        self.faults = faults if faults is not None else FaultPlan()
        self.snapshot_path = Path(snapshot_path) if snapshot_path is not None else None
        self._clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()
        self.data = self._load_snapshot()
        self.operations: deque[OperationRecord] = deque(maxlen=20_000)
        self.log = RequestLog()  # HTTP requests, as every stand-in keeps them (httpkit)

    def now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def authorized(self, token: str | None) -> bool:
        """The static token, or a live one from the client credentials grant."""
        if not token:
            return False
        if self.access_token is not None and token == self.access_token:
            return True
        return self.tokens.valid(token)

    # --- the GraphQL endpoint ----------------------------------------------------------------

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None,
                operation_name: str | None = None, *, fault: str | None = None,
                ) -> dict[str, Any]:
        """Answer one request body as Shopify would (rate limit, cost, execution).

        ``fault`` only labels the request log (the HTTP layer applies delay / drop_after)."""
        started = time.perf_counter()
        prepared = executor.prepare(query, operation_name)
        cost = executor.requested(prepared, variables)
        actual: int | None = None
        if cost > self.max_query_cost:
            outcome = "max_cost"
            body = executor.max_cost_body(self.bucket, cost, self.max_query_cost)
        elif not self.bucket.try_take(cost):
            body, outcome = executor.throttled_body(self.bucket, cost), "throttled"
        else:
            with self.lock:
                ctx = self.context()
                body, actual = executor.execute(prepared, variables, operation_name, ctx)
                if ctx.changed:
                    self.save_snapshot()
            self.bucket.refund(cost - actual)
            body["extensions"] = executor.cost_extension(self.bucket, cost, actual)
            if ctx.search_warnings:
                body["extensions"]["search"] = ctx.search_warnings
            outcome = "errors" if "errors" in body else "ok"
        self.record(prepared, operation_name, outcome, cost, actual, started, fault)
        return body

    def throttled(self, query: str, variables: Mapping[str, Any] | None = None,
                  operation_name: str | None = None) -> dict[str, Any]:
        """The THROTTLED answer for this request, without touching the bucket (fault rule)."""
        return executor.throttled_body(self.bucket, executor.requested(
            executor.prepare(query, operation_name), variables))

    def context(self) -> Context:
        return Context(self.data, self.rules, self.now(), self.scopes, self.shop_name,
                       self.shop_domain, self.receipt_json_as_string, timezone=self.timezone)

    def record(self, prepared: executor.Prepared | None, operation_name: str | None,
               outcome: str, requested: int, actual: int | None, started: float,
               fault: str | None = None) -> None:
        operation = prepared.operation if prepared is not None else None
        if operation_name is None and operation is not None and operation.name is not None:
            operation_name = operation.name.value
        root_field = prepared.root_field if prepared is not None else None
        with self.lock:
            self.operations.append(OperationRecord(
                self.now(), operation_name, root_field, outcome, requested, actual,
                round((time.perf_counter() - started) * 1000, 3), fault))

    # --- simulation helpers -------------------------------------------------------------------

    def create_order(self, spec: checkout.OrderSpec | None = None) -> Order:
        with self.lock:
            order = checkout.create_order(self.data, self.now(), self.currency,
                                          spec or checkout.OrderSpec())
            self.save_snapshot()
            return order

    def fulfill_order(self, order: Order | str | int,
                      line_item_ids: Sequence[int] | None = None) -> list[GiftCard]:
        with self.lock:
            issued = checkout.fulfill_order(self.data, self.now(), self.order(order),
                                            line_item_ids)
            self.save_snapshot()
            return issued

    def checkout_with_gift_cards(self, codes: Sequence[str],
                                 spec: checkout.OrderSpec | None = None, *,
                                 pay_remainder: bool = True) -> Order:
        with self.lock:
            order = checkout.checkout_with_gift_cards(
                self.data, self.now(), self.currency, spec or checkout.OrderSpec(), codes,
                pay_remainder=pay_remainder)
            self.save_snapshot()
            return order

    def refund_to_gift_card(self, order: Order | str | int, amount: Decimal | str | None = None,
                            code: str | None = None) -> OrderTransaction:
        with self.lock:
            refund = checkout.refund_to_gift_card(
                self.data, self.now(), self.order(order),
                Decimal(amount) if amount is not None else None, code)
            self.save_snapshot()
            return refund

    def issue_card(self, value: Decimal | str, code: str | None = None, *,
                   source: str = "manual", note: str | None = None) -> GiftCard:
        """A card made in the Shopify admin (or imported), bypassing the API's checks."""
        with self.lock:
            card = issue_card(self.data, self.now(), code=code, value=Decimal(value),
                              currency=self.currency, source=source, note=note)
            self.save_snapshot()
            return card

    def adjust_card(self, ref: str | int, amount: Decimal | str,
                    note: str | None = None) -> CardTransaction:
        """A balance adjustment made in Shopify's admin (a credit when ``amount`` is positive,
        a debit when negative), or with no note a sale at a Shopify POS: no order, no checks
        beyond the balance staying at or above zero."""
        with self.lock:
            card, value = self.card(ref), Decimal(amount)
            if value == 0 or card.balance + value < 0:
                raise ValueError("an adjustment is non-zero and leaves the balance >= 0")
            now = self.now()
            txn = record_transaction(self.data, card, "credit" if value > 0 else "debit",
                                     abs(value), note, now, now)
            self.save_snapshot()
            return txn

    def set_card_expiry(self, ref: str | int, expires_on: date | None) -> GiftCard:
        """The expiry changed in Shopify's admin (``None``: never expires)."""
        with self.lock:
            card = self.card(ref)
            card.expires_on, card.updated_at = expires_on, self.now()
            self.save_snapshot()
            return card

    def deactivate_card(self, ref: str | int) -> GiftCard:
        """Deactivated in Shopify's admin (for good: Shopify cannot enable it again)."""
        with self.lock:
            card = self.card(ref)
            if card.enabled:
                card.enabled, card.deactivated_at, card.updated_at = False, self.now(), self.now()
            self.save_snapshot()
            return card

    def remove_card(self, ref: str | int) -> None:
        """The card no longer exists for this app (Shopify has no delete; this simulates a
        card of another shop, or one lost in a store migration)."""
        with self.lock:
            card = self.card(ref)
            del self.data.cards[card.number]
            self.data.card_transactions = [t for t in self.data.card_transactions
                                           if t.card_number != card.number]
            self.save_snapshot()

    # --- inspection ---------------------------------------------------------------------------

    def order(self, ref: Order | str | int) -> Order:
        if isinstance(ref, Order):
            return ref
        number = ref if isinstance(ref, int) else parse_gid(ref, "Order")
        order = self.data.orders.get(number or 0)
        if order is None:
            raise KeyError(f"no order {ref!r}")
        return order

    def card(self, ref: str | int) -> GiftCard:
        """A card by number, GID or code (any case)."""
        with self.lock:
            if isinstance(ref, int):
                found = self.data.cards.get(ref)
            elif ref.startswith("gid://"):
                found = self.data.cards.get(parse_gid(ref, "GiftCard") or 0)
            else:
                found = self.data.card_by_code(ref)
            if found is None:
                raise KeyError("no such gift card")
            return found

    def card_transactions(self, ref: str | int) -> list[CardTransaction]:
        with self.lock:
            return self.data.transactions_of(self.card(ref).number)

    # --- test hooks and snapshots ---------------------------------------------------------

    def reset(self) -> None:
        """Forget cards, orders and customers, faults, logs; refill the bucket."""
        with self.lock:
            self.data = ShopState()
            self.faults.clear()
            self.operations.clear()
            self.log.clear()
            self.bucket.refund(self.bucket.maximum)
            self.save_snapshot()

    def state(self) -> dict[str, Any]:
        """The whole shop as JSON (codes in full: the shop's own view, never a log)."""
        with self.lock:
            return state_json(self.data)

    def _load_snapshot(self) -> ShopState:
        if self.snapshot_path is None or not self.snapshot_path.exists():
            return ShopState()
        return load_state(json.loads(self.snapshot_path.read_text(encoding="utf-8")))

    def save_snapshot(self) -> None:
        """Write the snapshot atomically, when one is configured."""
        if self.snapshot_path is None:
            return
        with self.lock:
            write_json_atomically(self.snapshot_path, dump_state(self.data))
