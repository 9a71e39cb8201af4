"""Balance checks: one email shape found or not, nothing sent on bad input, hourly limits."""

from __future__ import annotations

from typing import Any

from cards.codes import check_symbol
from cards.vocab import BalanceOutcome, CardSource, Metric, RequestStatus
from config.layout import BalanceChecks, GiftCards, Receipts
from prongs.store_context import StoreConfig
from tests.prongs.conftest import Harness, card_config, usd

B = BalanceChecks


def check(h: Harness, rec: str) -> dict[str, Any]:
    return h.at.row(B.TABLE, rec)


def valid_unknown_code(body: str = "QNKNWN12345") -> str:
    return body + check_symbol(body)


def test_a_found_card_gets_its_balance_emailed_and_nowhere_else(h: Harness) -> None:
    card = h.issue("50.00")
    code = h.code_of(card)
    h.redemption(code.reveal(), "7.50")
    h.run()
    rec = h.balance_check(code.reveal().lower(), "Who@Example.com ")
    report = h.run()
    assert report.outcomes == {"Sent": 1}
    event = h.event(f"balance:{rec}:customer")
    assert event.metric == Metric.BALANCE and event.email == "Who@Example.com"
    assert dict(event.properties) == {
        "found": True,
        "masked_code": code.masked,
        "balance": "42.50",
        "currency": "USD",
        "expires_on": None,
    }
    row = check(h, rec)
    assert row[B.STATUS] == RequestStatus.DONE and row[B.OUTCOME] == BalanceOutcome.SENT
    assert row[B.CODE] == code.masked
    assert "42.5" not in str(row)
    receipt = h.receipts()[f"balance:{rec}:balance-checked"]
    assert receipt[Receipts.GIFT_CARD] == (card,)
    assert Receipts.BALANCE_AFTER not in receipt and "42.5" not in str(receipt)


def test_an_unknown_code_gets_the_same_shape_with_found_false(h: Harness) -> None:
    typed = valid_unknown_code()
    rec = h.balance_check(typed)
    h.run()
    event = h.event(f"balance:{rec}:customer")
    assert dict(event.properties) == {
        "found": False,
        "masked_code": "\u2022" * 8 + typed[-4:],
        "balance": None,
        "currency": "USD",
        "expires_on": None,
    }
    row = check(h, rec)
    assert row[B.OUTCOME] == BalanceOutcome.NOT_FOUND and row[B.STATUS] == RequestStatus.DONE
    receipt = h.receipts()[f"balance:{rec}:balance-checked"]
    assert Receipts.GIFT_CARD not in receipt


def test_format_incorrect_and_invalid_email_send_nothing(h: Harness) -> None:
    short = h.balance_check("ABC")
    body = "QNKNWN12345"
    typo = h.balance_check(body + ("0" if check_symbol(body) != "0" else "1"))
    bad_email = h.balance_check(valid_unknown_code(), "nobody")
    no_email = h.balance_check(valid_unknown_code(), None)
    h.run()
    assert check(h, short)[B.OUTCOME] == BalanceOutcome.FORMAT_INCORRECT
    assert check(h, typo)[B.OUTCOME] == BalanceOutcome.FORMAT_INCORRECT
    assert check(h, bad_email)[B.OUTCOME] == BalanceOutcome.INVALID_EMAIL
    assert check(h, no_email)[B.OUTCOME] == BalanceOutcome.INVALID_EMAIL
    for rec in (short, typo, bad_email, no_email):
        assert check(h, rec)[B.STATUS] == RequestStatus.REJECTED
    assert h.world.email.events == [] and h.receipts() == {}
    assert check(h, typo)[B.CODE].startswith("\u2022" * 8)


def test_a_native_card_in_a_balance_check_gets_an_imported_row(h: Harness) -> None:
    h.shop.issue_native("NATIVE7KQ2XY", usd("30.00"))
    rec = h.balance_check("NATIVE 7KQ2 XY")
    h.run()
    assert h.event(f"balance:{rec}:customer").properties["balance"] == "30.00"
    (card,) = h.at.rows(GiftCards.TABLE)
    assert card[GiftCards.SOURCE] == CardSource.IMPORTED
    assert h.receipts()[f"balance:{rec}:balance-checked"][Receipts.GIFT_CARD] == (card["id"],)


def test_a_stale_airtable_balance_is_refreshed_from_shopify(h: Harness) -> None:
    card = h.issue("50.00")
    h.shop.debit(h.shopify_id(card), usd("50.00"), "spent online")
    h.balance_check(h.code_of(card).reveal())
    h.run()
    assert h.card(card)[GiftCards.BALANCE] == usd("0.00")
    assert h.card(card)[GiftCards.STATUS] == "Redeemed"


def test_per_email_limit() -> None:
    h = Harness(config=StoreConfig(card=card_config(), balance_checks_per_hour=2))
    recs = [
        h.balance_check(valid_unknown_code(f"QNKNWN1234{i}"), "a@example.com") for i in range(3)
    ]
    other = h.balance_check(valid_unknown_code("QNKNWN12349"), "b@example.com")
    lookups_before = h.injector.count("shopify.find_cards_by_code")
    h.run()
    outcomes = [check(h, r)[B.OUTCOME] for r in recs]
    assert outcomes == [BalanceOutcome.NOT_FOUND, BalanceOutcome.NOT_FOUND, "Rate Limited"]
    assert check(h, recs[2])[B.STATUS] == RequestStatus.REJECTED
    assert check(h, other)[B.OUTCOME] == BalanceOutcome.NOT_FOUND
    assert h.events(f"balance:{recs[2]}:customer") == []
    assert h.injector.count("shopify.find_cards_by_code") - lookups_before == 3


def test_per_code_limit_counts_across_emails_and_restarts() -> None:
    h = Harness(config=StoreConfig(card=card_config(), balance_checks_per_hour=2))
    code = valid_unknown_code()
    h.balance_check(code, "a@example.com")
    h.balance_check(code, "b@example.com")
    h.run()  # a new run seeds its counts from Airtable: these two count
    third = h.balance_check(code, "c@example.com")
    h.run()
    assert check(h, third)[B.OUTCOME] == BalanceOutcome.RATE_LIMITED
    h.world.clock.advance(3601)
    fourth = h.balance_check(code, "d@example.com")
    h.run()
    assert check(h, fourth)[B.OUTCOME] == BalanceOutcome.NOT_FOUND


def test_overall_limit_is_twenty_times_the_hourly_limit() -> None:
    h = Harness(config=StoreConfig(card=card_config(), balance_checks_per_hour=1))
    recs = [
        h.balance_check(valid_unknown_code(f"QNKNWN1{i:04d}"), f"p{i}@example.com")
        for i in range(21)
    ]
    h.run()
    outcomes = [check(h, r)[B.OUTCOME] for r in recs]
    assert outcomes[:20] == [BalanceOutcome.NOT_FOUND] * 20
    assert outcomes[20] == BalanceOutcome.RATE_LIMITED


def test_an_email_that_keeps_failing_needs_attention(h: Harness) -> None:
    rec = h.balance_check(valid_unknown_code())
    for _ in range(3):
        h.injector.arm("klaviyo.send", "fail_before")
    h.run()
    row = check(h, rec)
    assert row[B.STATUS] == RequestStatus.NEEDS_ATTENTION and row[B.OUTCOME] == BalanceOutcome.ERROR
    assert f"balance:{rec}:email-failed:customer" in h.receipts()


def test_codes_are_counted_by_digest_not_their_last_four_characters() -> None:
    h = Harness(config=StoreConfig(card=card_config(), balance_checks_per_hour=2))
    card = h.issue("40.00")
    real = h.code_of(card).reveal()
    lookalikes = [f"ZZZZZZZ{i}{real[-4:]}" for i in range(4)]  # other codes, the same last 4
    strangers = [h.balance_check(c, f"s{i}@example.com") for i, c in enumerate(lookalikes)]
    h.run()
    holder = h.balance_check(real, "holder@example.com")
    h.run()  # a new run: the counts come back from the rows' Code Digest
    assert check(h, holder)[B.OUTCOME] == BalanceOutcome.SENT
    for rec in [*strangers, holder]:
        row = check(h, rec)
        assert len(row[B.CODE_DIGEST]) == 64 and row[B.CODE].startswith("\u2022")
        assert all(code not in str(row) for code in [real, *lookalikes])


def test_the_digest_limit_holds_across_restarts_and_emails() -> None:
    h = Harness(config=StoreConfig(card=card_config(), balance_checks_per_hour=2))
    card = h.issue("40.00")
    code = h.code_of(card).reveal()
    first = [h.balance_check(code, f"a{i}@example.com") for i in range(2)]
    h.run()
    third = h.balance_check(code.lower(), "c@example.com")  # the same code, typed differently
    h.run()
    assert [check(h, r)[B.OUTCOME] for r in first] == [BalanceOutcome.SENT] * 2
    assert check(h, third)[B.OUTCOME] == BalanceOutcome.RATE_LIMITED
    assert check(h, third)[B.CODE_DIGEST] == check(h, first[0])[B.CODE_DIGEST]
