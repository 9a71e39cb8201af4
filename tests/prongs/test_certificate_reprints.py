"""Regenerate PDF after spending: the record copy shows Shopify's balance beside the initial
value, with the code masked and no QR code (rendered for real and read back)."""

from __future__ import annotations

from cards.vocab import CardActionType, RequestStatus
from config.layout import CardActions
from tests.certificate_tools import pdf_text, qr_codes
from tests.fakes.pdf import RenderingCertificates
from tests.prongs.conftest import Harness, usd


def test_regenerate_pdf_after_a_redemption_prints_shopifys_balance_on_the_record_copy(
    h: Harness,
) -> None:
    store = h.store()
    card = h.issue("50.00")
    code = h.code_of(card)
    h.redemption(code.reveal(), "12.50", store=store)
    h.run()
    # An edit in the Shopify admin the Airtable mirror has not seen yet: Shopify is the truth.
    h.shop.debit(h.shopify_id(card), usd("7.50"), "an edit in the Shopify admin")
    h.world.certificates = RenderingCertificates()
    request = h.card_action(card, CardActionType.REGENERATE_PDF)
    h.run()
    assert h.at.row(CardActions.TABLE, request)[CardActions.STATUS] == RequestStatus.DONE
    (data,) = h.world.certificates.rendered
    assert data.balance == usd("30.00") and data.amount == usd("50.00")
    assert data.full_code is None and data.balance_on == h.world.clock.now().date()
    (pdf,) = h.world.certificates.pdfs
    text = pdf_text(pdf)
    assert "30.00" in text and "Initial value 50.00 USD" in text and code.masked in text
    assert code.reveal() not in text and qr_codes(pdf) == []
