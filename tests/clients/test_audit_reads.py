"""The audit's reads at the adapters: the card listing's search and parsing, and the Airtable
formulas (pyairtable-built) for a range of card numbers and for time windows of receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyairtable.formulas import to_formula_str

from cards.money import Money
from cards.vocab import ReceiptAction
from clients import airtable_audit, shopify_audit
from clients.shopify_parse import ResponseShapeError

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_card_search_resumes_after_a_number_and_quotes_the_time() -> None:
    assert shopify_audit.cards_query(0, None) == "id:>0"
    since = NOW.astimezone(datetime.now().astimezone().tzinfo)
    assert shopify_audit.cards_query(1234, since) == "id:>1234 updated_at:>='2026-11-22T12:00:00Z'"
    assert shopify_audit.variables(5, None, 1000)["first"] == 250  # Shopify's largest page


def test_a_page_of_cards_parses_and_a_malformed_one_is_refused() -> None:
    node = {
        "id": "gid://shopify/GiftCard/7",
        "lastCharacters": "4tpc",
        "enabled": False,
        "deactivatedAt": "2026-11-01T10:00:00Z",
        "expiresOn": "2030-01-31",
        "note": "giftbridge create:recA1b2C3d4E5f6G7h",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-11-01T10:00:00Z",
        "balance": {"amount": "12.5", "currencyCode": "USD"},
    }
    page = shopify_audit.page({"giftCards": {"pageInfo": {"hasNextPage": True}, "nodes": [node]}})
    (card,) = page.cards
    assert page.has_next_page
    assert card.balance == Money.of("12.50", "USD") and not card.enabled
    assert card.updated_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    with pytest.raises(ResponseShapeError):
        shopify_audit.page({"giftCards": {"pageInfo": {}, "nodes": [{**node, "updatedAt": None}]}})


def test_range_formula_compares_card_numbers_as_numbers() -> None:
    text = to_formula_str(airtable_audit.range_formula(1000, 2000))
    assert "VALUE(SUBSTITUTE({Shopify Gift Card ID}, 'gid://shopify/GiftCard/', ''))>1000" in text
    assert "<=2000" in text
    assert "LEFT({Shopify Gift Card ID}, 23)='gid://shopify/GiftCard/'" in text
    assert "<=" not in to_formula_str(airtable_audit.range_formula(0, None))


def test_window_formulas_hold_a_few_windows_each() -> None:
    spans = [(NOW + timedelta(hours=i), NOW + timedelta(hours=i, minutes=30)) for i in range(45)]
    formulas = airtable_audit.windows_formulas([ReceiptAction.REDEEMED_ONLINE], spans)
    assert len(formulas) == 3
    text = to_formula_str(formulas[0])
    assert "{Action}='Redeemed Online'" in text and text.count("{At}>=") == 20
    assert airtable_audit.windows_formulas([ReceiptAction.ADJUSTED], []) == []
