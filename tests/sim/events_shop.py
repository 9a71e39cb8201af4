"""What happens in Shopify and to time: web-shop orders (gift-card SKUs and native gift cards),
Shopify fulfilling native cards, checkouts paid with a gift card, late refunds onto a card,
changes in Shopify's admin, and the clock jumping (a few seconds, across the shop's midnight,
past expiry dates).

Each event is ``event(sim, rng) -> str``, like :mod:`tests.sim.events`; none goes through the
injector (it is Shopify's own doing, not a giftbridge call).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cards.money import Money
from tests.sim import hostile
from tests.sim.world import SKU_PRICES, NativeOrder, SimWorld, Spend, usd


def _attributes(sim: SimWorld, rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.4:
        return {}
    bad = rng.random() < 0.2
    key_case = rng.choice(("Recipient email", "recipient EMAIL", "RECIPIENT EMAIL"))
    attributes = {key_case: hostile.email(rng, bad, "giftee") or ""}
    if rng.random() < 0.7:
        attributes["Recipient name"] = hostile.name(rng, bad) or ""
    if rng.random() < 0.5:
        attributes["Message"] = hostile.hostile_text(rng) if bad else "For you"
    return attributes


def order_skus(sim: SimWorld, rng: random.Random) -> str:
    shop = sim.shopify
    items = []
    for _ in range(rng.randint(1, 2)):
        sku = rng.choice((*SKU_PRICES, "TSHIRT"))
        price = usd(SKU_PRICES.get(sku, "19.99"))
        items.append(
            shop.line_item(
                price, quantity=rng.randint(1, 3), sku=sku, attributes=_attributes(sim, rng)
            )
        )
    customer = hostile.email(rng, rng.random() < 0.1, "shopper")
    order = shop.place_order(*items, customer_email=customer)
    shop.pay_other(order.id, sum((i.unit_price for i in items[1:]), items[0].unit_price))
    return f"order {order.name}: SKUs {[(i.sku, i.quantity) for i in items]}"


def order_native(sim: SimWorld, rng: random.Random) -> str:
    shop = sim.shopify
    quantity = rng.randint(1, 2)
    price = usd(rng.choice(("10.00", "25.00", "100.00")))
    item = shop.line_item(price, quantity=quantity, is_gift_card=True, name="Gift card")
    order = shop.place_order(item)
    shop.pay_other(order.id, price)
    sim.native_orders.append(NativeOrder(order.id, [price] * quantity))
    return f"order {order.name}: {quantity} native card(s) of {price}"


def fulfil_native(sim: SimWorld, rng: random.Random) -> str:
    """Shopify issues (and emails) the next native card of an order."""
    waiting = [o for o in sim.native_orders if o.units]
    if not waiting:
        return "fulfil: nothing waiting"
    order = rng.choice(waiting)
    return issue_native_unit(sim, rng, order)


def issue_native_unit(sim: SimWorld, rng: random.Random, order: NativeOrder) -> str:
    value = order.units.pop()
    code = "".join(rng.choice("ABCDEFGHJKMNPQRSTVWXYZ0123456789") for _ in range(16))
    card = sim.shopify.issue_native(code, value, order_id=order.order_id)
    return f"Shopify issued {card.id} ({value}) for {order.order_id}"


def issue_native_alone(sim: SimWorld, rng: random.Random) -> str:
    """A card Shopify issued long ago (an old POS sale): no order giftbridge will see."""
    code = "".join(
        rng.choice("ABCDEFGHJKMNPQRSTVWXYZ0123456789") for _ in range(rng.randint(8, 20))
    )
    card = sim.shopify.issue_native(code, usd(str(hostile.amount(rng, 500, 10000))))
    return f"Shopify issued {card.id} ({card.balance}) outside any order"


def _today(sim: SimWorld) -> datetime:
    return sim.clock.now().astimezone(ZoneInfo(sim.shopify.timezone))


def _spendable(sim: SimWorld) -> list[str]:
    today = _today(sim).date()
    return [
        gid
        for gid, entry in sim.shopify.cards.items()
        if entry.card.enabled
        and entry.card.balance.is_positive
        and (entry.card.expires_on is None or entry.card.expires_on >= today)
    ]


def checkout(sim: SimWorld, rng: random.Random) -> str:
    """A web-shop order paid (partly) with a gift card; sometimes the payment fails."""
    cards = _spendable(sim)
    if not cards:
        return "checkout: no spendable card"
    shop = sim.shopify
    gid = rng.choice(cards)
    balance = shop.cards[gid].card.balance
    cents = int(balance.amount * 100)
    paid = Money.of(str(hostile.amount(rng, 1, cents)), balance.currency)
    order = shop.place_order(shop.line_item(paid + usd("5.00")))
    status = "FAILURE" if rng.random() < 0.1 else "SUCCESS"
    shop.pay_with_card(order.id, gid, paid, status=status)
    shop.pay_other(order.id, usd("5.00"))
    if status == "SUCCESS":
        sim.spends.append(Spend(order.id, gid, paid, Money.zero(balance.currency)))
    return f"checkout {order.name}: {paid} from {gid} ({status})"


def refund(sim: SimWorld, rng: random.Random) -> str:
    """A refund onto the card an order was paid with: minutes or days after the order."""
    open_spends = [s for s in sim.spends if s.refunded < s.paid and s.card_id in sim.shopify.cards]
    if not open_spends:
        return "refund: nothing to refund"
    spend = rng.choice(open_spends)
    left = spend.paid - spend.refunded
    amount = Money.of(str(hostile.amount(rng, 1, int(left.amount * 100))), left.currency)
    sim.shopify.refund_to_card(spend.order_id, spend.card_id, amount)
    spend.refunded = spend.refunded + amount
    return f"refund {amount} onto {spend.card_id} ({spend.order_id})"


def admin_change(sim: SimWorld, rng: random.Random) -> str:
    """An operator changes a card in Shopify's admin (the audit should notice)."""
    cards = list(sim.shopify.cards)
    if not cards:
        return "admin: no card"
    gid = rng.choice(cards)
    entry = sim.shopify.cards[gid]
    if rng.random() < 0.6:
        balance = entry.card.balance
        up = rng.random() < 0.5 or not balance.is_positive
        cents = rng.randint(1, 3000) if up else rng.randint(1, int(balance.amount * 100))
        amount = Money.of(str(hostile.amount(rng, cents, cents)), balance.currency)
        sim.shopify.admin_adjust(gid, amount if up else -amount)
        return f"admin adjusted {gid} by {'+' if up else '-'}{amount}"
    new = _today(sim).date() + timedelta(days=rng.randint(-2, 90)) if rng.random() < 0.8 else None
    sim.shopify.admin_set_expiry(gid, new)
    return f"admin set expiry of {gid} to {new}"


# --- time -------------------------------------------------------------------------------------


def clock_jump(sim: SimWorld, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        seconds = rng.choice((1, 2, 5, 15, 30, 61, 95))
    elif roll < 0.75:
        seconds = rng.choice((600, 1800, 3700, 7300))
    elif roll < 0.9:  # just past the shop's next midnight
        local = _today(sim)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        until = midnight.astimezone(UTC) - sim.clock.now()
        seconds = int(until.total_seconds()) + rng.randint(1, 120)
    else:  # days: past expiry dates and reminder thresholds
        seconds = rng.choice((6, 8, 11, 24, 31, 46)) * 86400
    sim.clock.advance(seconds)
    return f"clock +{timedelta(seconds=seconds)} -> {sim.clock.now().isoformat()}"


def stall(sim: SimWorld, rng: random.Random) -> str:
    """A call that hangs: the process stalls, its lease may run out meanwhile."""
    seconds = rng.choice((3, 12, 50, 100))
    sim.clock.advance(seconds)
    return f"stall {seconds}s -> {sim.clock.now().isoformat()}"
