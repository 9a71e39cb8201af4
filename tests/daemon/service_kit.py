"""A business in the Airtable fake (cards, receipts, requests) and a service that shows it."""

from __future__ import annotations

import http.client
from datetime import datetime, timedelta
from decimal import Decimal

from cards.money import Money
from cards.vocab import CardSource, CardStatus, ReceiptAction, ReceiptSource, RequestStatus
from clients.records import Receipt
from config.layout import CreationRequests, GiftCards, StoreRedemptions
from daemon.metrics import Metrics
from daemon.service import Service
from daemon.summary import BusinessSummary, SummaryPlan
from tests.fakes import World
from tests.fakes.airtable_reports import FakeReports

BASE_ID = "appBusiness000001"


def add_card(
    world: World,
    value: str,
    balance: str,
    status: CardStatus,
    issued_at: datetime | None,
    *,
    currency: str = "USD",
    origin: str = "create:recX",
) -> str:
    amount = (lambda v: Money.of(v, currency)) if currency == world.airtable.currency else Decimal
    return world.airtable.insert(
        GiftCards.TABLE,
        {
            GiftCards.STATUS: status,
            GiftCards.CURRENCY: currency,
            GiftCards.INITIAL_VALUE: amount(value),
            GiftCards.BALANCE: amount(balance),
            GiftCards.SOURCE: CardSource.STORE,
            GiftCards.ISSUED_AT: issued_at,
            GiftCards.ORIGIN_KEY: origin,
        },
    )


def add_receipt(
    world: World, reference: str, action: ReceiptAction, at: datetime, card: str, amount: str
) -> None:
    world.airtable.upsert_receipts(
        [
            Receipt(
                reference=reference,
                action=action,
                at=at,
                source=ReceiptSource.STORE,
                card_id=card,
                amount=Money.of(amount, world.airtable.currency),
            )
        ]
    )


def add_request(world: World, table: str, status: RequestStatus, outcome: str | None) -> str:
    fields: dict[str, object] = {"Status": status}
    if outcome:
        fields["Outcome"] = outcome
    if table == StoreRedemptions.TABLE:
        fields[StoreRedemptions.RESULT_MESSAGE] = "Shopify kept failing for ••••••••7KQ2."
    return world.airtable.insert(table, fields)


def build_business(world: World) -> dict[str, str]:
    """Today is the clock's day (2026-11-22). USD: three cards issued this month (one today),
    an older Active card, redemptions today and earlier this month, last month's redemption
    (not counted). EUR: one card today. Requests: a Needs Attention redemption, a creation
    stuck in Processing, and a fresh Processing one (not stuck yet)."""
    now = world.clock.now()
    month = now.replace(day=2)
    ids = {
        "today": add_card(world, "50.00", "40.00", CardStatus.ACTIVE, now - timedelta(hours=1)),
        "month": add_card(world, "25.00", "0.00", CardStatus.REDEEMED, month),
        "voided": add_card(world, "20.00", "0.00", CardStatus.VOIDED, month),
        "old": add_card(world, "100.00", "70.00", CardStatus.ACTIVE, now - timedelta(days=90)),
        "eur": add_card(world, "30.00", "30.00", CardStatus.ACTIVE, now, currency="EUR"),
        "rehearsal": add_card(
            world, "5.00", "5.00", CardStatus.ACTIVE, now, origin="rehearsal:create:rec1"
        ),
    }
    add_receipt(world, "redeem:r1:redeemed", ReceiptAction.REDEEMED, now, ids["today"], "10.00")
    add_receipt(world, "redeem:r2:redeemed", ReceiptAction.REDEEMED, month, ids["month"], "25.00")
    add_receipt(
        world, "txn:3:redeemed-online", ReceiptAction.REDEEMED_ONLINE, month, ids["old"], "30.00"
    )
    last_month = now - timedelta(days=40)
    add_receipt(world, "redeem:r4:redeemed", ReceiptAction.REDEEMED, last_month, ids["old"], "1.00")
    ids["attention"] = add_request(
        world, StoreRedemptions.TABLE, RequestStatus.NEEDS_ATTENTION, "Error"
    )
    ids["stuck"] = add_request(world, CreationRequests.TABLE, RequestStatus.PROCESSING, None)
    ids["fresh"] = add_request(world, CreationRequests.TABLE, RequestStatus.PROCESSING, None)
    return ids


def summary_for(
    world: World, metrics: Metrics | None = None
) -> tuple[BusinessSummary, FakeReports]:
    reports = FakeReports(world.airtable)
    summary = BusinessSummary(
        reports,
        world.clock,
        base_id=BASE_ID,
        shop_currency="USD",
        metrics=metrics,
        plan=SummaryPlan(),
    )
    return summary, reports


def start_and_stop_a_service() -> None:
    """A whole service with its summary and endpoint: started, asked for its page, stopped."""
    from tests.daemon.conftest import PURCHASES, idle_job, small_config

    world = World.build()
    build_business(world)
    summary, _ = summary_for(world)
    service = Service(
        small_config(http_port=0),
        world.airtable,
        [idle_job(PURCHASES)],
        clock=world.clock,
        metrics=Metrics(),
        owner="host-a:1:aaaaaa",
        environ={},
        summary=summary,
    )
    service.start()
    try:
        summary.tick()
        assert service.http is not None
        conn = http.client.HTTPConnection("127.0.0.1", service.http.port, timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        service.shutdown()
