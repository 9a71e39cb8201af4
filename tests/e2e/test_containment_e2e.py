"""End to end (sandbox over HTTP, real prong): hostile amounts beside good redemptions in one
group, and store authority (an inactive store, no store, two stores)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cards.vocab import CreationOutcome, RedemptionOutcome, RequestStatus
from config.layout import CreationRequests, GiftCards, StoreRedemptions, Stores
from tests.e2e.store_helpers import StoreWorld, masked, store_online

pytestmark = pytest.mark.slow

S = StoreRedemptions
CLOSED_EMAIL = "oldtown@example.com"


def redeem(
    w: StoreWorld, code: str, amount: Any, stores: list[str] | None, *, raw: bool = False
) -> str:
    value = amount if raw or amount is None else float(Decimal(amount))
    fields = {S.CODE: code, S.STORE: stores, S.AMOUNT: value, S.STAFF_NAME: "Sam"}
    (record,) = w.online.base.create(S.TABLE, [{k: v for k, v in fields.items() if v is not None}])
    return str(record["id"])


def test_a_group_with_hostile_amounts_beside_five_good_redemptions() -> None:
    with store_online() as w:
        sold = [w.creation("50.00", email=f"g{i}@example.com") for i in range(6)]
        w.run()
        codes = [w.code_for(f"g{i}@example.com") for i in range(6)]
        good = [redeem(w, codes[i], "10.00", [w.store_id]) for i in range(5)]
        hostile = [1e30, -5, 0, 1.005, None]  # as Airtable's JSON numbers (or a blank cell)
        bad = [redeem(w, codes[5], amount, [w.store_id], raw=True) for amount in hostile]
        report = w.run()
        assert report.outcomes == {"Success": 5, "Invalid Amount": 5}
        for rec in good:
            assert w.row(rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS.value
        for rec in bad:
            row = w.row(rec)
            assert row[S.STATUS] == RequestStatus.REJECTED.value
            assert row[S.OUTCOME] == RedemptionOutcome.INVALID_AMOUNT.value
            assert row[S.CODE] == masked(codes[5])
        for request in sold[:5]:
            w.assert_mirrored(w.card_of(request), "40.00")
        w.assert_mirrored(w.card_of(sold[5]), "50.00")
        assert w.notes(w.card_of(sold[5])) == []
        assert "too large" in w.row(bad[0])[S.RESULT_MESSAGE]


def test_store_authority_for_redemptions_and_creations() -> None:
    with store_online() as w:
        (closed,) = w.online.base.create(
            Stores.TABLE,
            [{Stores.NAME: "Old Town", Stores.EMAIL: CLOSED_EMAIL, Stores.ACTIVE: False}],
        )
        sold = w.creation("50.00", email="holder@example.com")
        w.run()
        code, card = w.code_for("holder@example.com"), w.card_of(sold)
        inactive = redeem(w, code, "10.00", [closed["id"]])
        missing = redeem(w, code, "10.00", None)
        two = redeem(w, code, "10.00", [w.store_id, closed["id"]])
        fine = redeem(w, code, "5.00", [w.store_id])
        no_store = w.creation("25.00", email="nobody@example.com", store=False)
        closed_sale = w._create(
            CreationRequests.TABLE,
            {
                CreationRequests.PURCHASER_NAME: "Pat Buyer",
                CreationRequests.PURCHASER_EMAIL: "pat@example.com",
                CreationRequests.AMOUNT: 25.0,
                CreationRequests.CHANNEL: "Store",
                CreationRequests.STORE: [closed["id"]],
            },
        )
        w.run()
        for rec, says in ((inactive, "not Active"), (missing, "No store"), (two, "2 stores")):
            row = w.row(rec)
            assert row[S.STATUS] == RequestStatus.REJECTED.value
            assert row[S.OUTCOME] == RedemptionOutcome.NOT_ALLOWED.value
            assert says in row[S.RESULT_MESSAGE] and row[S.CODE] == masked(code)
        assert w.row(fine)[S.OUTCOME] == RedemptionOutcome.SUCCESS.value
        w.assert_mirrored(card, "45.00")  # only the authorised one was debited
        notice = w.event(f"redeem:{inactive}:store")
        assert notice.email == CLOSED_EMAIL and notice.properties["outcome"] == "Not Allowed"
        for rec in (no_store, closed_sale):
            assert w.row(rec)[CreationRequests.OUTCOME] == CreationOutcome.NOT_ALLOWED.value
        assert w.event(f"create:{closed_sale}:store").email == CLOSED_EMAIL
        issued = [r for r in w.online.rows(GiftCards.TABLE)]
        assert len(issued) == 1  # nothing issued for the refused sales
