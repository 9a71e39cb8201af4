"""The one retry layer: classes, not strings; attempts AND deadline; never a blind re-send."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clients.errors import AmbiguousOutcome, Permanent, RateLimited, Retryable
from clients.retry import RetryPolicy, policy_for


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy(t: FakeTime, attempts: int = 4, deadline: float = 20.0) -> RetryPolicy:
    return RetryPolicy(
        attempts=attempts,
        deadline=deadline,
        base_delay=0.5,
        max_delay=4.0,
        sleep=t.sleep,
        clock=t.clock,
    )


def failing(errors: list[BaseException], result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    calls = [0]

    def fn() -> str:
        calls[0] += 1
        if errors:
            raise errors.pop(0)
        return result

    return fn, calls


def test_retryable_errors_are_retried_until_success() -> None:
    t = FakeTime()
    fn, calls = failing([Retryable("s", "op"), Retryable("s", "op")])
    assert policy(t).call(fn, service="s", operation="op") == "ok"
    assert calls[0] == 3
    assert len(t.sleeps) == 2 and all(0 < s <= 4.0 for s in t.sleeps)


def test_attempts_bound_the_loop_and_the_last_error_propagates() -> None:
    t = FakeTime()
    fn, calls = failing([Retryable("s", "op", str(i)) for i in range(10)])
    with pytest.raises(Retryable) as caught:
        policy(t, attempts=3).call(fn, service="s", operation="op")
    assert calls[0] == 3
    assert caught.value.detail == "2"


def test_a_silence_longer_than_the_deadline_surfaces_at_once() -> None:
    t = FakeTime()
    fn, calls = failing([RateLimited("airtable", "list", retry_after=30)])
    with pytest.raises(RateLimited):
        policy(t, deadline=20).call(fn, service="airtable", operation="list")
    assert calls[0] == 1 and t.sleeps == []


def test_a_short_silence_is_honoured_before_the_retry() -> None:
    t = FakeTime()
    fn, _ = failing([RateLimited("shopify", "q", retry_after=2.5)])
    policy(t).call(fn, service="shopify", operation="q")
    assert 2.5 <= t.sleeps[0] <= 2.75


def test_ambiguous_outcomes_are_never_resent_unless_the_call_is_idempotent() -> None:
    t = FakeTime()
    fn, calls = failing([AmbiguousOutcome("airtable", "create")])
    with pytest.raises(AmbiguousOutcome):
        policy(t).call(fn, service="airtable", operation="create")
    assert calls[0] == 1

    fn, calls = failing([AmbiguousOutcome("airtable", "update")])
    assert policy(t).call(fn, service="airtable", operation="update", idempotent=True) == "ok"
    assert calls[0] == 2


def test_permanent_errors_and_foreign_exceptions_are_not_retried() -> None:
    t = FakeTime()
    fn, calls = failing([Permanent("shopify", "debit", code="INSUFFICIENT_FUNDS")])
    with pytest.raises(Permanent):
        policy(t).call(fn, service="shopify", operation="debit", idempotent=True)
    fn, calls = failing([KeyError("x")])
    with pytest.raises(KeyError):
        policy(t).call(fn, service="shopify", operation="debit", idempotent=True)
    assert calls[0] == 1


def test_the_default_deadline_leaves_room_for_the_last_call_inside_the_run_budget() -> None:
    for timeout, budget in [(10, 45), (20, 45), (1, 3), (40, 45)]:
        chosen = policy_for(timeout, budget)
        assert 0 < chosen.deadline < budget
        assert chosen.deadline + timeout <= budget or chosen.deadline == 0.5
    assert policy_for(10, 45).deadline == pytest.approx(22.5)


def test_on_call_sees_each_call_once_with_the_error_its_caller_gets() -> None:
    t, seen = FakeTime(), []
    hooked = RetryPolicy(
        attempts=3,
        base_delay=0.5,
        sleep=t.sleep,
        clock=t.clock,
        on_call=lambda *call: seen.append(call),
    )
    fn, calls = failing([Retryable("s", "op")])  # retried within the call: one call, no error
    assert hooked.call(fn, service="shopify", operation="GiftCardById") == "ok"
    fn, _ = failing([Permanent("shopify", "debit", code="INSUFFICIENT_FUNDS")])
    with pytest.raises(Permanent):
        hooked.call(fn, service="shopify", operation="GiftCardDebit")
    assert [(s, o, e) for s, o, _, e in seen] == [
        ("shopify", "GiftCardById", None),
        ("shopify", "GiftCardDebit", "Permanent"),
    ]
    assert calls[0] == 2 and all(seconds >= 0 for _, _, seconds, _ in seen)


def test_a_refused_answer_fails_the_call_and_is_not_resent() -> None:
    t, seen = FakeTime(), []
    hooked = RetryPolicy(sleep=t.sleep, clock=t.clock, on_call=lambda *call: seen.append(call))

    def refuse(answer: str) -> None:
        raise AmbiguousOutcome("shopify", "TagsAdd", f"userErrors in {answer}")

    fn, calls = failing([])
    with pytest.raises(AmbiguousOutcome, match="userErrors in ok"):
        hooked.call(fn, service="shopify", operation="TagsAdd", idempotent=True, check=refuse)
    assert calls[0] == 1 and t.sleeps == []  # the check's error is the answer, not retried
    assert [e for *_, e in seen] == ["AmbiguousOutcome"]
    unhooked, _ = failing([])
    assert policy(t).call(unhooked, service="s", operation="op", check=lambda a: None) == "ok"
