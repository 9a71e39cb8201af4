"""Crash at every outside call while both order prongs work one shop: no card issued twice, no
email twice, no receipt twice, balances equal, and never a tag without its Shopify Orders row."""

from __future__ import annotations

from dataclasses import dataclass

from cards.vocab import Metric, OrderKind, ReceiptAction
from config.layout import ShopifyOrders
from prongs.deps import Deps
from prongs.report import Budget, OpenGate, RunReport
from prongs.shopify_purchases import run_once as run_purchases_once
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    SKU,
    TAG_P,
    TAG_R,
    RedemptionsProcess,
    known_card,
    purchases_config,
    purchases_deps,
    redemptions_config,
    redemptions_process,
    usd,
)
from tests.prongs_shopify.crashkit import Scenario, matrix


@dataclass
class BothDeps:
    purchases: Deps
    redemptions: RedemptionsProcess


def tagged_without_row(world: World) -> list[str]:
    rows = {
        (r[ShopifyOrders.ORDER_ID], r[ShopifyOrders.KIND])
        for r in world.airtable.rows(ShopifyOrders.TABLE)
    }
    bad = []
    for order in world.shopify.orders.values():
        has_gift_cards = any(li.is_gift_card or li.sku == SKU for li in order.line_items)
        if TAG_P in order.tags and has_gift_cards and (order.id, OrderKind.PURCHASE) not in rows:
            bad.append(order.id)
        if TAG_R in order.tags and (order.id, OrderKind.REDEMPTION) not in rows:
            bad.append(order.id)
    return bad


def build() -> Scenario:
    world = World.build("USD")
    shop = world.shopify
    wallet = known_card(world, "AAAA2222BBBB", "40.00")
    pending: dict[str, str] = {}

    def first(world: World) -> None:
        gift = shop.line_item(
            usd("50.00"), sku=SKU, quantity=2, attributes={"Recipient email": "r@example.com"}
        )
        one = shop.place_order(gift)
        shop.pay_with_card(one.id, wallet.gid, usd("40.00"))  # a purchase paid by a card
        shop.pay_other(one.id, usd("60.00"))
        two = shop.place_order(
            shop.line_item(usd("20.00"), sku=SKU),
            shop.line_item(usd("25.00"), is_gift_card=True),
        )
        pending["native"] = two.id
        shop.place_order(shop.line_item(usd("19.00"), sku="SHIRT"))

    def later(world: World) -> None:
        world.clock.advance(3600)
        shop.issue_native("NATIVEAAAA1234", usd("25.00"), order_id=pending["native"])

    purchases, redemptions = purchases_config(), redemptions_config()

    def run(deps: BothDeps) -> RunReport:
        first_report = run_purchases_once(
            deps.purchases, purchases, Budget(world.clock, 30), OpenGate()
        )
        second = deps.redemptions.run(redemptions, Budget(world.clock, 30), OpenGate())
        second.found_work = second.found_work or first_report.found_work
        second.errors += first_report.errors
        return second

    return Scenario(
        world,
        lambda: BothDeps(purchases_deps(world), redemptions_process(world)),
        run,
        [first, later],
        tagged_without_row,
    )


def test_every_crash_point_ends_in_the_clean_runs_state() -> None:
    expected, calls, crashes = matrix(build)

    actions = [action for action, _, _ in expected["receipts"].values()]
    assert actions.count(ReceiptAction.CREATED) == 3  # two gift units and one for the buyer
    assert actions.count(ReceiptAction.PURCHASED_ONLINE) == 3
    assert actions.count(ReceiptAction.REDEEMED_ONLINE) == 1
    assert expected["shopify_cards"] == 5  # the wallet, three issued, one native
    assert [m for m, _, _ in expected["emails"]].count(Metric.ISSUED.value) == 3
    assert calls > 40 and crashes >= calls
