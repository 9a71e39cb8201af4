"""One error tree: every error giftbridge raises on purpose descends from one root."""

from __future__ import annotations

import pytest

from cards import errors as domain
from cards.codes import Code, CodeError
from cards.keys import ActionKey, MalformedKey
from cards.money import Money, MoneyError
from cards.status import TransitionNotAllowed, require_transition
from cards.vocab import CardStatus
from clients import errors as outside


@pytest.mark.parametrize("error", [CodeError, MoneyError, MalformedKey, TransitionNotAllowed])
def test_domain_errors_are_giftbridge_errors_and_still_value_errors(error: type) -> None:
    assert issubclass(error, domain.DomainError)
    assert issubclass(error, domain.GiftbridgeError)
    assert issubclass(error, ValueError)


def test_client_errors_hang_from_the_same_root() -> None:
    assert outside.GiftbridgeError is domain.GiftbridgeError
    assert outside.InvariantViolation is domain.InvariantViolation
    for error in (outside.Retryable, outside.AmbiguousOutcome, outside.Permanent):
        assert issubclass(error, outside.ClientError)
        assert issubclass(error, domain.GiftbridgeError)
    assert not issubclass(outside.ClientError, domain.DomainError)


def test_the_domain_raises_its_own_classes() -> None:
    with pytest.raises(CodeError):
        Code.parse("short")
    with pytest.raises(MoneyError):
        Money.of("1.001", "USD")
    with pytest.raises(MalformedKey):
        ActionKey.parse("nonsense:1")
    with pytest.raises(TransitionNotAllowed):
        require_transition(CardStatus.VOIDED, CardStatus.REDEEMED)
