"""Record the cassettes in tests/cassettes against the sandboxes (run by hand, not by pytest):

    .venv/bin/python -m tests.clients.record_cassettes

Each sandbox listens on a fixed loopback port (cassette_tools) so the replay test can point the
adapters at the same URLs with the network off. Tokens are filtered from headers; codes are
scrubbed from bodies before anything is written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cards.codes import Code
from cards.money import Money
from cards.vocab import Metric
from clients.factory import Limiters, build_airtable, build_email, build_shopify
from clients.records import EmailEvent
from config.layout import StoreRedemptions
from config.settings import load_settings
from sandbox.airtable import AirtableSandbox, load_layout_json, make_airtable_app
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, admin_schema, make_shopify_app
from tests.clients.cassette_tools import recorder
from tests.configs import airtable_config, klaviyo_config, shopify_config

TOKEN, BASE_ID = "patRecording0000.recording", "appRecording00001"
SHOP_TOKEN, KLAVIYO_KEY = "shpat_recording", "pk_recording_000000000000"
CODE = "7KQ2M9XH4TPC"


def record() -> None:
    admin_schema()
    airtable = AirtableSandbox(TOKEN, BASE_ID, layout=load_layout_json(), rate_limit=None)
    shop = ShopifySandbox(SHOP_TOKEN)
    klaviyo = KlaviyoSandbox(KLAVIYO_KEY)
    services = [
        ServiceThread(lambda: make_airtable_app(airtable), port=48701).start(),
        ServiceThread(lambda: make_shopify_app(shop), port=48702).start(),
        ServiceThread(lambda: make_klaviyo_app(klaviyo), port=48703).start(),
    ]
    settings = load_settings(
        _env_file=None,
        airtable_api_url=services[0].url,
        airtable_content_url=services[0].url,
        airtable_base_id=BASE_ID,
        shopify_graphql_url=f"{services[1].url}/admin/api/2025-10/graphql.json",
        klaviyo_api_url=services[2].url,
    )
    limiters = Limiters()
    s = StoreRedemptions
    airtable.base(BASE_ID).create(s.TABLE, [{s.CODE: CODE, s.AMOUNT: 12.5, s.STAFF_NAME: "Sam"}])
    card = shop.issue_card("50.00", CODE)
    adapters = (
        build_airtable(airtable_config(settings, TOKEN), limiters),
        build_shopify(shopify_config(settings, SHOP_TOKEN), limiters),
        build_email(klaviyo_config(settings, KLAVIYO_KEY), limiters),
    )
    cassettes = recorder("all")
    try:
        with cassettes.use_cassette("airtable_list.yaml"):
            adapters[0].pending_redemptions(10)
        with cassettes.use_cassette("shopify_debit.yaml"):
            adapters[1].debit(
                f"gid://shopify/GiftCard/{card.number}",
                Money.of("12.50", "USD"),
                "giftbridge redeem:recA1b2C3d4E5f6G7h",
            )
        with cassettes.use_cassette("klaviyo_event.yaml"):
            adapters[2].send(
                EmailEvent(
                    Metric.ISSUED,
                    "recipient@example.com",
                    "create:recA1b2C3d4E5f6G7h:recipient",
                    {
                        "code": Code.parse(CODE).reveal(),
                        "masked_code": Code.parse(CODE).masked,
                        "amount": "50.00",
                        "currency": "USD",
                    },
                    datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
                )
            )
    finally:
        for adapter in adapters:
            adapter.close()
        for service in services:
            service.stop()


if __name__ == "__main__":
    record()
