"""Fixtures shared by the end-to-end modules.

``desk`` and ``till`` are module-scoped: each module that reads a scenario builds it once (about
half a second each), so the modules stay independent of one another and of their order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import store_desk, store_till
from tests.e2e.store_desk import Desk
from tests.e2e.store_helpers import store_online
from tests.e2e.store_till import Till
from tests.prongs_shopify.online_sandbox import Online, online


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with store_online() as world:
        d = Desk(world)
        store_desk.sell(d)
        store_desk.serve(d)
        store_desk.reactivate_then_fail(d)
        yield d


@pytest.fixture(scope="module")
def till() -> Iterator[Till]:
    with store_online() as world:
        till = Till(world)
        store_till.sell(till)
        store_till.prepare(till)
        store_till.redeem(till)
        store_till.unreachable_then_silent(till)
        yield till


@pytest.fixture
def shop() -> Iterator[Online]:
    """A fresh sandbox per test (the online edge cases each start from an empty shop)."""
    with online() as running:
        yield running
