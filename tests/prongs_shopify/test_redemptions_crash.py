"""Crash at every outside call of the redemptions prong: one receipt per movement, balances
equal to Shopify's, and never a tag without its Shopify Orders row."""

from __future__ import annotations

from cards.vocab import OrderKind, ReceiptAction
from config.layout import ShopifyOrders
from prongs.report import Budget, OpenGate, RunReport
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    TAG_R,
    RedemptionsProcess,
    known_card,
    redemptions_config,
    redemptions_process,
    unknown_card,
    usd,
)
from tests.prongs_shopify.crashkit import Scenario, matrix


def untagged_without_row(world: World) -> list[str]:
    recorded = {
        r[ShopifyOrders.ORDER_ID]
        for r in world.airtable.rows(ShopifyOrders.TABLE)
        if r[ShopifyOrders.KIND] == OrderKind.REDEMPTION
    }
    return [o.id for o in world.shopify.orders.values() if TAG_R in o.tags and o.id not in recorded]


def build() -> Scenario:
    world = World.build("USD")
    shop = world.shopify
    a = known_card(world, "AAAA2222BBBB", "50.00")
    b = known_card(world, "CCCC3333DDDD", "20.00")
    stranger = unknown_card(world, "ZZZZ9999YYYY", "40.00")
    late: dict[str, str] = {}

    def first(world: World) -> None:
        one = shop.place_order(shop.line_item(usd("40.00")))
        shop.pay_with_card(one.id, a.gid, usd("30.00"))
        shop.pay_other(one.id, usd("10.00"))
        two = shop.place_order(shop.line_item(usd("25.00")))
        shop.pay_with_card(two.id, b.gid, usd("20.00"))  # to zero: Redeemed
        shop.pay_with_card(two.id, stranger.id, usd("5.00"))
        late["order"] = two.id
        three = shop.place_order(shop.line_item(usd("5.00")))
        shop.pay_with_card(three.id, stranger.id, usd("5.00"))
        four = shop.place_order(shop.line_item(usd("5.00")))
        shop.pay_with_card(four.id, a.gid, usd("5.00"))
        shop.refund_to_card(four.id, a.gid, usd("5.00"))

    def later(world: World) -> None:
        world.clock.advance(86400)
        shop.refund_to_card(late["order"], b.gid, usd("10.00"))  # Redeemed -> Active

    config = redemptions_config(page_size=2)

    def run(process: RedemptionsProcess) -> RunReport:
        return process.run(config, Budget(world.clock, 30), OpenGate())

    return Scenario(
        world, lambda: redemptions_process(world), run, [first, later], untagged_without_row
    )


def test_every_crash_point_ends_in_the_clean_runs_state() -> None:
    expected, calls, crashes = matrix(build)

    actions = [action for action, _, _ in expected["receipts"].values()]
    assert actions.count(ReceiptAction.REDEEMED_ONLINE) == 3
    assert actions.count(ReceiptAction.REFUNDED_ONLINE) == 2
    assert calls > 20
    assert crashes >= calls  # crash_before and crash_after fire at every index
