"""Store redemptions end to end (sandbox over HTTP, real prong): the runs, and every Success.

The tests read the ``till`` scenario (``tests/e2e/store_till.py``), built once per module.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.vocab import (
    CardSource,
    CardStatus,
    Kind,
    Metric,
    ReceiptAction,
    RedemptionOutcome,
    RequestStatus,
)
from config.layout import GiftCards, Receipts, StoreRedemptions
from tests.e2e.store_helpers import STORE_EMAIL, dec, masked
from tests.e2e.store_till import NATIVE_CODE, SOLD, Till

pytestmark = pytest.mark.slow

S = StoreRedemptions
R = RedemptionOutcome


# --- the runs themselves ---------------------------------------------------------------------


def test_each_run_reports_the_outcomes_of_its_requests(till: Till) -> None:
    assert till.reports["sell"].outcomes == {"Created": len(SOLD)}
    assert till.reports["prepare"].outcomes == {"Applied": 1}  # the operator's void
    assert till.reports["redeem"].outcomes == {
        "Success": 4,
        "Format Incorrect": 2,
        "Not Found": 1,
        "Insufficient Balance": 1,
        "Expired": 1,
        "Voided": 1,
        "Not Active": 1,
        "Invalid Amount": 5,
        "Exceeds Order Total": 1,
        "Error": 1,
    }
    assert till.reports["unreachable"].outcomes == {"Error": 1}
    assert till.reports["unreachable"].errors == [
        f"redemption {till.requests['lookup_failed']}: Retryable: shopify GiftCardsByCode: HTTP 502"
    ]
    assert till.reports["silent"].outcomes == {"Success": 1}
    assert not till.world.online.shop.faults.pending()  # every injected fault was met
    assert not till.world.online.klaviyo.faults.pending()


def test_no_processed_request_keeps_a_typed_code(till: Till) -> None:
    rows = till.world.online.rows(S.TABLE)
    assert len(rows) == len(till.requests)
    for row in rows:
        assert row[S.STATUS] in {"Done", "Rejected", "Needs Attention"}
        assert str(row[S.CODE]).startswith("\u2022" * 8), row[S.CODE]
        assert row[S.PROCESSED_AT] and row[S.RESULT_MESSAGE]
    plain = [c.upper() for c in till.codes.values()] + [NATIVE_CODE.upper()]
    dump = str(rows).upper()
    assert not [c for c in plain if c in dump]


# --- Success -----------------------------------------------------------------------------------


def _native_card(till: Till) -> str:
    gid = till.world.online.shop.card(NATIVE_CODE).number
    (row,) = [
        r
        for r in till.world.online.rows(GiftCards.TABLE)
        if r.get(GiftCards.ORIGIN_KEY) == f"native:{gid}"
    ]
    return str(row["id"])


@pytest.mark.parametrize(
    ("name", "card", "amount", "before", "after"),
    [
        ("success", "success", "30.00", "100.00", "70.00"),
        ("dashes", "dashes", "20.00", "80.00", "60.00"),  # typed lower case with dashes
        ("native", None, "15.00", "60.00", "45.00"),  # Shopify issued it: imported first
        ("cert_ok", "cert_ok", "30.00", "30.00", "0.00"),  # a certificate: used in full
    ],
)
def test_success_debits_shopify_then_mirrors_and_records_it(
    till: Till, name: str, card: str | None, amount: str, before: str, after: str
) -> None:
    w, rec = till.world, till.requests[name]
    card_id = till.cards[card] if card else _native_card(till)
    code = till.codes.get(card or "", NATIVE_CODE)
    row = till.req(name)
    assert row[S.STATUS] == RequestStatus.DONE.value
    assert row[S.OUTCOME] == R.SUCCESS.value
    assert row[S.GIFT_CARD] == [card_id]
    assert dec(row[S.BALANCE_AFTER]) == Decimal(after)
    assert row[S.CODE] == masked(code)
    (txn,) = [t for t in w.notes(card_id) if t[2] == f"giftbridge redeem:{rec}"]
    assert txn[:2] == ("debit", Decimal(amount))
    assert str(row[S.SHOPIFY_TRANSACTION_ID]).startswith("gid://shopify/GiftCardDebitTransaction/")
    w.assert_mirrored(card_id, after)
    receipt = w.receipts()[f"redeem:{rec}:redeemed"]
    assert receipt[Receipts.ACTION] == ReceiptAction.REDEEMED.value
    assert (dec(receipt[Receipts.AMOUNT]), dec(receipt[Receipts.BALANCE_BEFORE])) == (
        Decimal(amount),
        Decimal(before),
    )
    assert dec(receipt[Receipts.BALANCE_AFTER]) == Decimal(after)
    assert receipt[Receipts.SHOPIFY_REFERENCE] == row[S.SHOPIFY_TRANSACTION_ID]
    assert receipt[Receipts.GIFT_CARD] == [card_id] and receipt[Receipts.STORE] == [w.store_id]
    assert receipt[Receipts.REQUEST] == rec and receipt[Receipts.SOURCE] == "Store"
    assert w.references_of(f"redeem:{rec}") == {f"redeem:{rec}:redeemed"}
    notice = w.event(f"redeem:{rec}:store")
    assert notice.metric == Metric.STORE_NOTICE.value and notice.email == STORE_EMAIL
    assert notice.properties == {
        "notice": "redemption",
        "outcome": "Success",
        "masked_code": masked(code),
        "amount": amount,
        "currency": "USD",
        "balance_after": after,
        "request_id": rec,
        "message": row[S.RESULT_MESSAGE],
    }


def test_the_messages_say_what_was_taken_and_what_is_left(till: Till) -> None:
    success, cert = till.req("success"), till.req("cert_ok")
    assert success[S.RESULT_MESSAGE] == (
        f"Redeemed 30.00 USD from {masked(till.codes['success'])}; 70.00 USD left."
    )
    assert cert[S.RESULT_MESSAGE] == (
        f"Certificate {masked(till.codes['cert_ok'])} used in full: 30.00 USD."
    )


def test_a_native_card_at_the_till_gets_an_imported_row_first(till: Till) -> None:
    native = till.world.online.shop.card(NATIVE_CODE)
    row = till.world.row(_native_card(till))
    assert row[GiftCards.SOURCE] == CardSource.IMPORTED.value
    assert row[GiftCards.SHOPIFY_GIFT_CARD_ID] == f"gid://shopify/GiftCard/{native.number}"
    assert row[GiftCards.CODE_DIGEST] and GiftCards.CODE_SEALED not in row
    assert row[GiftCards.MASKED_CODE] == masked(NATIVE_CODE)
    assert row[GiftCards.LAST_CHARACTERS] == "RD42"
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert dec(row[GiftCards.INITIAL_VALUE]) == Decimal("60.00")


def test_a_certificate_used_in_full_leaves_its_card_redeemed(till: Till) -> None:
    row = till.world.row(till.cards["cert_ok"])
    assert row[GiftCards.KIND] == Kind.CERTIFICATE.value
    assert row[GiftCards.STATUS] == CardStatus.REDEEMED.value
