"""Property tests of the pure creation and card-action rules: cards.creation, cards.card_actions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cards import card_actions as rules
from cards.addresses import is_email
from cards.creation import SOURCES, CreationAsk, CreationProblem, ValidCreation, validate_creation
from cards.keys import ActionKey
from cards.money import Money
from cards.policy import AmountLimits
from cards.status import can_transition
from cards.vocab import CardActionOutcome, CardStatus, Channel, CreationOutcome

USD = "USD"
TODAY = date(2026, 11, 22)
LIMITS = AmountLimits(Money.of("5.00", USD), Money.of("1000.00", USD))
statuses = st.one_of(st.none(), st.sampled_from(CardStatus))
texts = st.one_of(st.none(), st.sampled_from(["", "  ", "Ada", " Bob ", "ada@example.com", "x@"]))
amounts = st.one_of(
    st.none(),
    st.decimals(min_value=Decimal("-5"), max_value=Decimal("1500"), places=3, allow_nan=False),
)
asks = st.builds(
    CreationAsk,
    amount=amounts,
    purchaser_name=texts,
    purchaser_email=texts,
    recipient_name=texts,
    recipient_email=texts,
    is_gift=st.booleans(),
    channel=st.one_of(st.none(), st.sampled_from(list(SOURCES))),
    has_store=st.booleans(),
    message=texts,
)


@given(asks, st.booleans())
def test_a_valid_creation_has_a_value_in_limits_and_an_address_for_its_holder(
    ask: CreationAsk, portal: bool
) -> None:
    result = validate_creation(ask, currency=USD, limits=LIMITS, portal_enabled=portal)
    if isinstance(result, CreationProblem):
        return
    assert LIMITS.minimum <= result.amount <= LIMITS.maximum
    assert result.amount.amount == ask.amount  # never rounded
    holder = result.recipient_email if result.is_gift else result.purchaser_email
    assert is_email(holder) and result.purchaser_name.strip() == result.purchaser_name != ""
    assert (result.source, result.receipt_source) == SOURCES[result.channel]
    assert result.channel != Channel.PORTAL or portal


@given(asks)
def test_the_portal_off_refuses_every_portal_request_first(ask: CreationAsk) -> None:
    portal_ask = CreationAsk(ask.amount, ask.purchaser_name, channel=Channel.PORTAL)
    result = validate_creation(portal_ask, currency=USD, limits=LIMITS, portal_enabled=False)
    assert isinstance(result, CreationProblem)
    assert result.outcome == CreationOutcome.PORTAL_DISABLED


@given(asks, st.booleans())
def test_validation_is_a_function_of_the_request(ask: CreationAsk, portal: bool) -> None:
    first = validate_creation(ask, currency=USD, limits=LIMITS, portal_enabled=portal)
    again = validate_creation(ask, currency=USD, limits=LIMITS, portal_enabled=portal)
    assert first == again  # a request that crashed half-way is validated to the same answer
    assert isinstance(first, ValidCreation | CreationProblem)


@given(statuses, st.sampled_from(["", "lost"]), st.booleans())
def test_void_follows_the_transition_table(
    status: CardStatus | None, reason: str, resuming: bool
) -> None:
    refusal = rules.void_refusal(status, reason, None, TODAY, resuming=resuming)
    if refusal is None:
        assert reason
        assert (status is not None and can_transition(status, CardStatus.VOIDED)) and (
            status != CardStatus.VOIDED or resuming
        )
    else:
        assert refusal.outcome == CardActionOutcome.NOT_ALLOWED


@given(statuses)
def test_only_a_voided_card_is_reactivated(status: CardStatus | None) -> None:
    allowed = rules.reactivation_refusal(status) is None
    assert allowed == (status == CardStatus.VOIDED)
    assert not allowed or can_transition(CardStatus.VOIDED, CardStatus.ACTIVE)


@given(
    statuses,
    st.booleans(),
    st.one_of(st.none(), st.dates(TODAY - timedelta(9), TODAY + timedelta(9))),
)
def test_an_expiry_change_never_sets_a_past_date_and_its_status_change_is_allowed(
    status: CardStatus | None, in_shopify: bool, new: date | None
) -> None:
    refusal = rules.expiry_change_refusal(status, in_shopify, new, TODAY)
    if refusal is None:
        assert status is not None and in_shopify and (new is None or new >= TODAY)
        assert can_transition(status, rules.status_after_expiry_change(status))


@given(amounts)
def test_an_adjustment_is_non_zero_exact_and_within_the_limit(value: Decimal | None) -> None:
    result = rules.adjustment(value, USD, LIMITS)
    if isinstance(result, Money):
        assert value is not None and result.amount == value != 0
        assert abs(result) <= LIMITS.maximum
    else:
        assert result.outcome == CardActionOutcome.INVALID_AMOUNT


@given(
    st.text(max_size=80),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
)
def test_the_last_void_trailer_is_read_back_whatever_the_reason_says(
    reason: str, cents: int, older: int
) -> None:
    key = ActionKey.action("recAAAAAAAAAAAAAA")
    old_key = ActionKey.action("recBBBBBBBBBBBBBB")
    quoted = rules.void_reason_with_trailer(reason, Money.of(Decimal(older) / 100, USD), old_key)
    voided = Money.of(Decimal(cents) / 100, USD)
    found = rules.last_void(rules.void_reason_with_trailer(quoted, voided, key))
    assert found == (voided.amount, key)
