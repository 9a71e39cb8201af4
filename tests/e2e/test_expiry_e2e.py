"""The expiry prong through the real adapters against the sandbox over HTTP: a shop in
Auckland, cards past their date, a date changed in Shopify's admin, reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards.vocab import CardStatus, Metric, ReceiptAction
from config.layout import GiftCards, Receipts
from prongs.expiry import run_once
from prongs.expiry_run import ExpiryConfig
from prongs.report import Budget, OpenGate, RunReport
from tests.prongs_shopify.online_sandbox import Online

pytestmark = pytest.mark.slow
ZONE = "Pacific/Auckland"


def shop_card(shop: Online, value: str, expires_on: date | None) -> str:
    card = shop.shop.issue_card(value)
    with shop.shop.lock:
        card.expires_on = expires_on  # set in the admin, whatever the API would allow
    return f"gid://shopify/GiftCard/{card.number}"


def row(shop: Online, gid: str, value: str, expires_on: date, email: str | None) -> str:
    fields: dict[str, Any] = {
        GiftCards.SHOPIFY_GIFT_CARD_ID: gid,
        GiftCards.MASKED_CODE: "\u2022" * 8 + gid[-4:].rjust(4, "0"),
        GiftCards.STATUS: CardStatus.ACTIVE.value,
        GiftCards.CURRENCY: "USD",
        GiftCards.BALANCE: float(Decimal(value)),
        GiftCards.INITIAL_VALUE: float(Decimal(value)),
        GiftCards.EXPIRES_ON: expires_on.isoformat(),
    }
    if email:
        fields[GiftCards.RECIPIENT_EMAIL] = email
    (created,) = shop.base.create(GiftCards.TABLE, [fields])
    return str(created["id"])


def run(shop: Online) -> RunReport:
    config = ExpiryConfig(business_name="Harbour Books", email_retry_seconds=0.01)
    return run_once(shop.deps, config, Budget(shop.deps.clock, 60), OpenGate())


def test_expiry_over_http_in_the_shops_time_zone(shop: Online) -> None:
    shop.shop.timezone = ZONE
    today = datetime.now(ZoneInfo(ZONE)).date()
    past_gid = shop_card(shop, "30.00", today - timedelta(days=1))
    past = row(shop, past_gid, "30.00", today - timedelta(days=1), "ana@example.com")
    moved_gid = shop_card(shop, "15.00", today + timedelta(days=90))
    moved = row(shop, moved_gid, "15.00", today - timedelta(days=2), "ben@example.com")
    soon = row(
        shop,
        shop_card(shop, "22.50", today + timedelta(days=4)),
        "22.50",
        today + timedelta(days=4),
        "cat@example.com",
    )
    silent = row(
        shop,
        shop_card(shop, "5.00", today + timedelta(days=25)),
        "5.00",
        today + timedelta(days=25),
        None,
    )
    last_day = row(shop, shop_card(shop, "9.00", today), "9.00", today, "dan@example.com")
    before = len(shop.airtable_sandbox.request_log)

    report = run(shop)

    assert not report.errors, report.errors
    assert report.outcomes == {
        "Expired": 1,
        "Expiry Mirrored": 1,
        "Reminder Sent": 2,
        "No Holder Email": 1,
    }
    assert shop.record(past)[GiftCards.STATUS] == CardStatus.EXPIRED.value
    assert shop.record(moved)[GiftCards.EXPIRES_ON] == (today + timedelta(days=90)).isoformat()
    assert shop.record(moved)[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert shop.record(last_day)[GiftCards.STATUS] == CardStatus.ACTIVE.value
    receipts = {r[Receipts.REFERENCE]: r for r in shop.rows(Receipts.TABLE)}
    expired = receipts[f"expire:{past}:{today - timedelta(days=1)}:expired"]
    assert expired[Receipts.ACTION] == ReceiptAction.EXPIRED.value
    assert expired[Receipts.AMOUNT] == 30 and expired[Receipts.BALANCE_AFTER] == 0
    assert f"expire:{moved}:{today - timedelta(days=2)}:expiry-changed" in receipts
    assert f"remind:{silent}:{today + timedelta(days=25)}:30:email-failed:recipient" in receipts
    (event,) = shop.klaviyo.events_for(Metric.EXPIRING_SOON.value, "cat@example.com")
    assert event.unique_id == f"remind:{soon}:{today + timedelta(days=4)}:7:recipient"
    assert event.properties["days_left"] == 4 and event.properties["balance"] == "22.50"
    assert event.properties["business_name"] == "Harbour Books"
    (last,) = shop.klaviyo.events_for(Metric.EXPIRING_SOON.value, "dan@example.com")
    assert last.properties["days_left"] == 0
    assert shop.shop.card(past_gid).balance == Decimal("30.00")  # Shopify keeps the balance
    made = [str(e.operation) for e in shop.airtable_sandbox.request_log[before:]]
    # the due cards, one upsert and one update for the two changed cards, the reminders'
    # receipts read, one upsert for their three receipts
    assert sorted(made) == sorted(
        ["airtable.list", "airtable.upsert", "airtable.update", "airtable.list", "airtable.upsert"]
    ), made

    again = run(shop)
    assert not again.found_work and again.processed == 0
    assert len(shop.rows(Receipts.TABLE)) == len(receipts)
    assert len(shop.klaviyo.events_for(Metric.EXPIRING_SOON.value)) == 2
