"""Stateful in-memory fakes of every port, with crash and fault injection (not mocks)."""

from __future__ import annotations

from tests.fakes.airtable import FakeAirtable
from tests.fakes.klaviyo import FakeEmail
from tests.fakes.pdf import FakeCertificates
from tests.fakes.shopify import FakeShopify
from tests.fakes.world import FakeClock, Injector, SimulatedCrash, World

__all__ = [
    "FakeAirtable",
    "FakeCertificates",
    "FakeClock",
    "FakeEmail",
    "FakeShopify",
    "Injector",
    "SimulatedCrash",
    "World",
]
