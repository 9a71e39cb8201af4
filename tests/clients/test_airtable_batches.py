"""The Airtable adapter's batch methods against the sandbox over real HTTP: digests read in few
requests and matched literally, PATCHes in tens, one refused record costing only itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cards.money import Money
from cards.vocab import CardStatus, RedemptionOutcome, RequestStatus
from clients.commands import (
    CloseRedemption,
    MirrorBalance,
    NewCardRow,
    Queue,
    RecordIntent,
    RecordRedemptionRefusal,
)
from config.layout import GiftCards, StoreRedemptions
from tests.clients.conftest import AirtableRig

pytestmark = pytest.mark.slow
S = StoreRedemptions
HOSTILE = ["x' OR 1=1 OR '", '"),TRUE(),("', "{Code Digest}", "a\\b\\", "O'Brien\\'"]


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def done(
    record_id: str, card_id: str | None = None, balance_after: Money | None = None
) -> CloseRedemption:
    """A Done closing of a redemption."""
    return CloseRedemption(
        record_id,
        status=RequestStatus.DONE,
        outcome=RedemptionOutcome.SUCCESS,
        message="done",
        processed_at=NOW,
        masked_code=None,
        card_id=card_id,
        balance_after=balance_after,
        transaction_id=None,
    )


def requests_made(rig: AirtableRig, operation: str) -> int:
    return sum(1 for e in rig.sandbox.request_log if e.operation == operation)


def redemption_rows(rig: AirtableRig, count: int) -> list[str]:
    created = rig.base.create(S.TABLE, [{S.CODE: f"code-{n}"} for n in range(count)])
    return [r["id"] for r in created]


def test_digests_are_read_forty_to_a_request_and_matched_exactly(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    digests = [f"{n:064x}" for n in range(45)]
    airtable.base.create(GiftCards.TABLE, [{GiftCards.CODE_DIGEST: d} for d in digests[:30]])
    airtable.base.create(GiftCards.TABLE, [{GiftCards.CODE_DIGEST: "f" * 64}])  # not asked for
    airtable.base.create(GiftCards.TABLE, [{GiftCards.ORIGIN_KEY: "no digest"}])
    found = adapter.find_cards_by_digests([*digests, digests[0]])  # a repeat is read once
    assert requests_made(airtable, "airtable.list") == 2
    assert sorted(found) == sorted(digests[:30])
    assert all(len(rows) == 1 and rows[0].code_digest == d for d, rows in found.items())


def test_a_duplicate_digest_comes_back_with_both_rows(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    airtable.base.create(GiftCards.TABLE, [{GiftCards.CODE_DIGEST: "dup"}] * 2)
    found = adapter.find_cards_by_digests(["dup", "other"])
    assert list(found) == ["dup"] and len(found["dup"]) == 2


def test_hostile_digests_match_literally(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    innocent = adapter.create_card(NewCardRow(code_digest="innocent"))
    targets = {h: adapter.create_card(NewCardRow(code_digest=h)).id for h in HOSTILE}
    found = adapter.find_cards_by_digests([*HOSTILE, "missing' OR '1'='1"])
    assert {d: [r.id for r in rows] for d, rows in found.items()} == {
        h: [i] for h, i in targets.items()
    }
    assert innocent.id not in {r.id for rows in found.values() for r in rows}


def test_no_digest_or_only_empty_ones_make_no_request(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    airtable.base.create(GiftCards.TABLE, [{GiftCards.ORIGIN_KEY: "blank digest"}])
    assert adapter.find_cards_by_digests([]) == {}
    assert adapter.find_cards_by_digests(["", ""]) == {}  # {Code Digest}='' would match blanks
    assert requests_made(airtable, "airtable.list") == 0


def test_long_digests_split_the_formula_and_still_match(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    long = [f"{n}" + "z" * 1400 for n in range(4)] + ["y" * 5000]
    airtable.base.create(GiftCards.TABLE, [{GiftCards.CODE_DIGEST: d} for d in long])
    found = adapter.find_cards_by_digests(long)
    assert sorted(found) == sorted(long)
    # at most 3,000 characters of values a formula: two pairs, and the longest alone
    assert requests_made(airtable, "airtable.list") == 3


def test_requests_are_patched_ten_to_a_request(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    ids = redemption_rows(airtable, 23)
    writes: list[RecordIntent | RecordRedemptionRefusal] = [
        RecordIntent(Queue.REDEMPTIONS, i) for i in ids
    ]
    writes.append(RecordRedemptionRefusal(ids[0], RedemptionOutcome.ERROR, "merged"))  # twice
    assert adapter.update_requests(writes) == {}
    assert requests_made(airtable, "airtable.update") == 3
    rows = {r["id"]: r["fields"] for r in airtable.base.records(S.TABLE)}
    assert all(rows[i][S.STATUS] == "Processing" for i in ids)
    assert rows[ids[0]][S.RESULT_MESSAGE] == "merged"


def test_a_refused_record_costs_only_itself(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    ids = redemption_rows(airtable, 12)
    writes = [done(i) for i in ids]
    writes[3] = done(ids[3], card_id="recDoesNotExist00")  # Airtable refuses this link
    refused = adapter.update_requests(writes)
    assert list(refused) == [ids[3]] and refused[ids[3]].status == 422
    # chunk one refused, then its ten records one by one; chunk two (two records) at once
    assert requests_made(airtable, "airtable.update") == 1 + 10 + 1
    rows = {r["id"]: r["fields"] for r in airtable.base.records(S.TABLE)}
    assert [i for i in ids if rows[i].get(S.STATUS) != "Done"] == [ids[3]]


def test_a_value_that_cannot_be_sent_is_refused_alone_before_any_request(
    airtable: AirtableRig,
) -> None:
    adapter = airtable.adapter()
    ids = redemption_rows(airtable, 3)
    euros = Money.of("1.00", "EUR")
    writes = [done(i, balance_after=Money.of("1.00", "USD")) for i in ids]
    writes[1] = done(ids[1], balance_after=euros)
    refused = adapter.update_requests(writes)
    assert list(refused) == [ids[1]] and refused[ids[1]].code == "INVALID_VALUE"
    assert requests_made(airtable, "airtable.update") == 1


def test_cards_are_patched_in_tens_and_a_missing_one_is_reported(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    cards = [adapter.create_card(NewCardRow(origin_key=f"k{n}")).id for n in range(11)]
    gone = cards.pop(4)
    airtable.base.delete(GiftCards.TABLE, gone)
    zero = Money.of("0.00", "USD")
    updates = [
        MirrorBalance(c, zero, synced_at=NOW, status=CardStatus.REDEEMED) for c in [*cards, gone]
    ]
    refused = adapter.update_cards(updates)
    assert list(refused) == [gone] and refused[gone].status == 404
    for card in cards:
        row = adapter.get_card(card)
        assert row is not None and row.status is CardStatus.REDEEMED


def test_a_lost_batch_response_is_resent_because_it_is_safe(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    ids = redemption_rows(airtable, 4)
    airtable.sandbox.faults.add("airtable.update", "drop_after")
    refused = adapter.update_requests([done(i) for i in ids])
    assert refused == {} and requests_made(airtable, "airtable.update") == 2
