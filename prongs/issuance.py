"""Issuing one gift card, exactly once, for a creation request or an online SKU purchase.

Call::

    issued = issue_card(deps, card_config, IssueOrder(...), extra_emails=None)

- ``IssueOrder.key`` names the card for life: ``ActionKey.create(record_id)`` for a Creation
  Requests row, ``ActionKey.order_unit(order_gid, line_item_gid, unit)`` for one unit of a
  gift-card SKU line item (``order:<order>:<line>:<unit>``, units from 1).
- ``source`` / ``receipt_source`` / ``purchase_receipts``: Store, Manual or Portal for requests
  (``(Purchased,)``, or ``(Purchased from Portal, Activated from Portal)`` for the Portal); for an
  online purchase ``CardSource.ONLINE``, ``ReceiptSource.ONLINE`` and ``(Purchased Online,)``
  with ``shopify_order`` (the order name, ``#1001``) and ``order_id`` (the order GID, the
  purchase receipt's Shopify Reference). ``request_id`` is the Receipts ``Request`` (None for
  orders).
- ``is_gift``: the recipient (name and email required) holds the code and the purchaser gets a
  confirmation with the masked code (when an email is given). Not a gift: the purchaser holds it
  and the row's Recipient Name/Email are the purchaser's, so every later email (resend, voided,
  expiring) goes to Recipient Email. Validate before calling: ``issue_card`` trusts its order.
- ``extra_emails(card_row)`` adds jobs sent after the card's own emails (the creation flow passes
  the store notice); their failures become Email Failed receipts too.

What it does, each step safe to repeat after a crash at any point: the Pending Gift Cards row with
Origin Key = key, digest, sealed code, masked code and last characters (the intent; found again
by Origin Key) -> ``giftCardCreate`` with ``notify: false`` and note ``giftbridge <key>`` (TAKEN
or a lost reply: find the card by code search and check the note). The code is derived from the
key (:func:`code_for`), so one key has one card whatever staff delete: a row deleted after the
card was made is made again with the same code, and Shopify's TAKEN leads to that card ->
Active with Issued At, Expires On and Balance from Shopify -> the record-copy certificate (masked
code; one upload, as the row holds none yet) -> emails -> receipts Created, the purchase
receipts, Sent per email that carries or announces the card, Email Failed per email that kept
failing (one upsert). It returns :class:`Issued`: the row and which audiences failed (the caller
marks its request or order Needs Attention). It raises ClientError
subclasses (caller decides), :class:`IssuanceAbandoned` when the Pending row was voided or the
code collided with a card that is not ours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

import structlog

from cards.codes import Code, derive, digest, seal, unseal
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from cards.status import require_transition
from cards.vocab import Audience, CardSource, CardStatus, Kind, ReceiptAction, ReceiptSource, Theme
from clients.commands import AbandonPendingCard, ActivateCard, NewCardRow
from clients.errors import AmbiguousOutcome, CodeTaken, Permanent
from clients.records import CardRow, CertificateData, Receipt, ShopifyCard
from prongs import emails
from prongs.deps import CardConfig, Deps
from prongs.exactly_once import Unresolved, again_if_ambiguous, create_card_once, update_card
from prongs.notices import EmailJob, ReceiptBase, send_emails, write_receipts

log = structlog.get_logger("giftbridge.prongs")

CREATE_ATTEMPTS = 3  # giftCardCreate attempts, each followed by a code search when ambiguous


class IssuanceAbandoned(InvariantViolation):
    """The card cannot be issued under this key: its Pending row was voided, or Shopify holds a
    card with the same code that giftbridge did not create."""


@dataclass(frozen=True, slots=True)
class IssueOrder:
    key: ActionKey
    amount: Money
    source: CardSource
    receipt_source: ReceiptSource
    purchase_receipts: tuple[ReceiptAction, ...]
    kind: Kind = Kind.GIFT_CARD
    theme: Theme = Theme.STANDARD
    is_gift: bool = False
    purchaser_name: str | None = None
    purchaser_email: str | None = None
    recipient_name: str | None = None
    recipient_email: str | None = None
    message: str | None = None
    store_id: str | None = None
    request_id: str | None = None
    shopify_order: str | None = None
    order_id: str | None = None

    @property
    def holder(self) -> tuple[str | None, str | None]:
        """(name, email) of whoever receives the code."""
        if self.is_gift:
            return self.recipient_name, self.recipient_email
        return self.purchaser_name, self.purchaser_email


@dataclass(frozen=True, slots=True)
class Issued:
    card: CardRow
    sent: tuple[Audience, ...]
    failed: tuple[Audience, ...]

    @property
    def email_failed(self) -> bool:
        return bool(self.failed)


ExtraEmails = Callable[[CardRow], Sequence[EmailJob]]


def issue_card(
    deps: Deps, config: CardConfig, order: IssueOrder, extra_emails: ExtraEmails | None = None
) -> Issued:
    row = _find_or_create_pending_row(deps, config, order)
    if row.status == CardStatus.VOIDED:
        raise IssuanceAbandoned(f"card {row.id} of {order.key} was voided before it was issued")
    if row.status == CardStatus.PENDING or row.shopify_id is None:
        row = _create_in_shopify_and_activate(deps, config, order, row)
    if not row.certificate_ids:
        attach_record_copy(deps, config, row, fresh=True)
    jobs = [*email_jobs(deps, config, order, row), *(extra_emails(row) if extra_emails else ())]
    base = receipt_base(deps, order, row)
    mailing = send_emails(deps, config, jobs, base)
    write_receipts(deps, issuance_receipts(order, row, base, mailing.receipts))
    log.info("card issued", key=str(order.key), card=row.id, masked=row.masked_code)
    return Issued(row, tuple(mailing.sent), tuple(mailing.failed))


def receipt_base(deps: Deps, order: IssueOrder, row: CardRow) -> ReceiptBase:
    return ReceiptBase(
        order.key, order.receipt_source, deps.clock.now(), row.id, order.store_id, order.request_id
    )


def issuance_receipts(
    order: IssueOrder, row: CardRow, base: ReceiptBase, mail_receipts: Sequence[Receipt]
) -> list[Receipt]:
    """Created, the purchase receipts, then the emails' own (Sent, Email Failed)."""
    value = row.initial_value or order.amount
    return [
        base.make(
            ReceiptAction.CREATED,
            amount=value,
            balance_after=value,
            shopify_reference=row.shopify_id,
        ),
        *(
            base.make(action, amount=value, shopify_reference=order.order_id)
            for action in order.purchase_receipts
        ),
        *mail_receipts,
    ]


def _find_or_create_pending_row(deps: Deps, config: CardConfig, order: IssueOrder) -> CardRow:
    """The card's row, found by Origin Key, or created Pending (the recorded intent)."""
    origin = str(order.key)
    found = again_if_ambiguous(lambda: deps.airtable.find_card(origin_key=origin))
    if found is not None:
        return found
    return create_card_once(deps, pending_card_row(config, order))


def pending_card_row(config: CardConfig, order: IssueOrder) -> NewCardRow:
    """The Pending row of a card about to be issued, with the key's own code (:func:`code_for`):
    digest, sealed code, masked code and last characters (never the code itself)."""
    code = code_for(config, order.key)
    holder_name, holder_email = order.holder
    return NewCardRow(
        origin_key=str(order.key),
        code_digest=digest(code, config.pepper),
        code_sealed=seal(code, config.code_key),
        masked_code=code.masked,
        last_characters=code.last4,
        status=CardStatus.PENDING,
        kind=order.kind,
        currency=order.amount.currency,
        initial_value=order.amount,
        source=order.source,
        store_id=order.store_id,
        purchaser_name=order.purchaser_name,
        purchaser_email=order.purchaser_email,
        recipient_name=holder_name,
        recipient_email=holder_email,
        message=order.message,
        theme=order.theme,
        shopify_order=order.shopify_order,
    )


def code_for(config: CardConfig, key: ActionKey) -> Code:
    """The code of the card issued under ``key``: derived from the key (:func:`cards.codes.derive`),
    so a Pending or Active row staff delete is re-created with the same code, and Shopify's
    TAKEN then leads to the card already issued for the key instead of a second card."""
    return derive(str(key), config.code_key, config.code_length)


def _create_in_shopify_and_activate(
    deps: Deps, config: CardConfig, order: IssueOrder, row: CardRow
) -> CardRow:
    return update_card(deps, create_in_shopify(deps, config, order, row))


def create_in_shopify(
    deps: Deps, config: CardConfig, order: IssueOrder, row: CardRow
) -> ActivateCard:
    """The Shopify card of a Pending row, exactly once; returns the row's activation to write."""
    if row.code_sealed is None:
        raise InvariantViolation(f"card {row.id} of {order.key} has no sealed code")
    code = unseal(row.code_sealed, config.code_key)
    now = deps.clock.now()
    card = _create_card_in_shopify(deps, config, order, row, code)
    require_transition(row.status or CardStatus.PENDING, CardStatus.ACTIVE)
    return ActivateCard(row.id, card.id, card.expires_on, card.balance, at=now)


def _create_card_in_shopify(
    deps: Deps, config: CardConfig, order: IssueOrder, row: CardRow, code: Code
) -> ShopifyCard:
    """giftCardCreate exactly once: TAKEN or a lost reply means look for our own card first."""
    expires_on = config.expiry.expires_on(deps.clock.now().date())
    for _ in range(CREATE_ATTEMPTS):
        try:
            return deps.shopify.create_card(code, order.amount, order.key.note, expires_on)
        except CodeTaken:
            cards = again_if_ambiguous(lambda: deps.shopify.find_cards_by_code(code))
            mine = [c for c in cards if c.note == order.key.note]
            if mine:  # created before (a lost reply, or a row staff deleted): that card
                return mine[0]
            if not cards:  # Shopify's search lags its own create: look again next run
                raise Unresolved(
                    "shopify", "giftCardCreate", f"{order.key}: TAKEN, not found yet"
                ) from None
            _abandon_pending_row(deps, row, "the code is already used by another Shopify card")
        except Permanent as exc:
            _abandon_pending_row(deps, row, f"Shopify refused the card: {exc}")
        except AmbiguousOutcome:
            log.warning("giftCardCreate ambiguous; searching", key=str(order.key))
            ours = find_our_card_in_shopify(deps, code, order.key)
            if ours is not None:
                return ours
    raise Unresolved("shopify", "giftCardCreate", f"{order.key} still unknown")


def find_our_card_in_shopify(deps: Deps, code: Code, key: ActionKey) -> ShopifyCard | None:
    """The card issued under ``key`` with ``code`` (its note names the key), or None."""
    cards = again_if_ambiguous(lambda: deps.shopify.find_cards_by_code(code))
    ours = [c for c in cards if c.note == key.note]
    return ours[0] if ours else None


def _abandon_pending_row(deps: Deps, row: CardRow, reason: str) -> NoReturn:
    """Pending -> Voided, without the digest: the code belongs to someone else's card."""
    require_transition(row.status or CardStatus.PENDING, CardStatus.VOIDED)
    update_card(deps, AbandonPendingCard(row.id, reason))
    raise IssuanceAbandoned(f"card {row.id}: {reason}")


def attach_record_copy(
    deps: Deps,
    config: CardConfig,
    row: CardRow,
    balance: Money | None = None,
    *,
    fresh: bool = False,
) -> None:
    """The Certificate attachment: the record copy, which shows the masked code only (no QR
    code); ``balance`` (Shopify's, on a regeneration) is printed beside the initial value.
    ``fresh``: the row was read with no certificate, so the first upload needs no clearing
    write; a repeat after a lost answer clears first, so a card never holds two copies."""
    amount = row.initial_value or row.balance
    if amount is None or row.masked_code is None:
        raise InvariantViolation(f"card {row.id} has no value or masked code to certify")
    pdf = deps.certificates.render(
        certificate_data(
            row, config, row.masked_code, amount, balance=balance, today=deps.clock.now().date()
        )
    )
    name = f"certificate-{(row.last_characters or row.masked_code)[-4:]}.pdf"
    if fresh:
        try:
            deps.airtable.attach_certificate(row.id, name, pdf, replace=False)
            return
        except AmbiguousOutcome:
            log.warning("certificate upload ambiguous; replacing", card=row.id)
    again_if_ambiguous(lambda: deps.airtable.attach_certificate(row.id, name, pdf))


def certificate_data(
    row: CardRow,
    config: CardConfig,
    code_display: str,
    amount: Money,
    *,
    balance: Money | None = None,
    today: date | None = None,
    full_code: str | None = None,
) -> CertificateData:
    """What a card's certificate shows: ``code_display`` is the masked code on the record copy,
    the full code (``full_code``, for the QR code) only on the printable certificate
    (:mod:`prongs.card_view`); ``balance`` as of ``today`` is printed beside the initial value."""
    return CertificateData(
        business_name=config.business_name,
        code_display=code_display,
        amount=amount,
        kind=row.kind or Kind.GIFT_CARD,
        theme=row.theme or Theme.STANDARD,
        expires_on=row.expires_on,
        recipient_name=row.recipient_name,
        sender_name=row.purchaser_name,
        message=row.message,
        balance=balance,
        balance_on=today if balance is not None else None,
        full_code=full_code,
    )


def email_jobs(deps: Deps, config: CardConfig, order: IssueOrder, row: CardRow) -> list[EmailJob]:
    """The card's own emails: the code to its holder, a confirmation to a gift's purchaser."""
    now = deps.clock.now()
    jobs: list[EmailJob] = []
    holder = emails.holder_email(row)
    if holder and row.code_sealed:
        code = unseal(row.code_sealed, config.code_key)
        event = emails.issued(
            row,
            code,
            key=order.key,
            to=holder,
            at=now,
            business_name=config.business_name,
            currency=config.currency,
        )
        jobs.append(EmailJob(Audience.RECIPIENT, event, sent_receipt=True))
    if order.is_gift and order.purchaser_email:
        event = emails.purchase_confirmation(
            row, key=order.key, to=order.purchaser_email, at=now, currency=config.currency
        )
        jobs.append(EmailJob(Audience.PURCHASER, event, sent_receipt=True))
    return jobs
