"""The webhook adapter over HTTP against the Airtable stand-in: each call's request and answer,
the errors it turns into, and the shared limiter every call goes through."""

from __future__ import annotations

import pytest

from clients.airtable_webhooks import AirtableWebhooks
from clients.errors import Permanent, RateLimited, Retryable
from clients.factory import Limiters, build_webhooks
from clients.ratelimit import Window, WindowLimiter
from clients.webhook_records import GIFTBRIDGE_SOURCES, PUBLIC_API, giftbridge_specification
from config.layout import StoreRedemptions, Stores
from tests.clients.conftest import AIRTABLE_TOKEN, AirtableRig, open_limiters
from tests.configs import airtable_config


def webhooks(rig: AirtableRig, limiters: Limiters | None = None) -> AirtableWebhooks:
    adapter = build_webhooks(
        airtable_config(rig.settings(), AIRTABLE_TOKEN, penalty=0.2), limiters or open_limiters()
    )
    rig.closers.append(adapter.close)
    return adapter


def test_the_specification_is_every_source_but_the_public_api() -> None:
    filters = giftbridge_specification()["options"]["filters"]
    assert filters["dataTypes"] == ["tableData"]
    assert "recordChangeScope" not in filters
    assert PUBLIC_API not in filters["fromSources"]
    assert set(filters["fromSources"]) == set(GIFTBRIDGE_SOURCES) and len(GIFTBRIDGE_SOURCES) == 8


def test_create_list_read_refresh_delete(airtable: AirtableRig) -> None:
    port = webhooks(airtable)
    made = port.create_webhook(None)
    assert made.id.startswith("ach") and made.mac_secret_base64
    assert made.mac_secret_base64 not in repr(made)
    [info] = port.list_webhooks()
    assert info.id == made.id and info.enabled and info.giftbridge_spec
    assert info.notification_url is None and info.cursor_for_next_payload == 1

    ids = port.table_ids()
    assert ids[StoreRedemptions.TABLE].startswith("tbl") and Stores.TABLE in ids
    airtable.base.submit_form(StoreRedemptions.TABLE, {StoreRedemptions.CODE: "FORM"})
    airtable.base.create(Stores.TABLE, [{Stores.NAME: "By hand"}])  # source "client"
    page = port.read_payloads(made.id, 1)
    assert page.cursor == 3 and not page.might_have_more
    assert [(p.source, p.table_ids) for p in page.payloads] == [
        ("formSubmission", frozenset({ids[StoreRedemptions.TABLE]})),
        ("client", frozenset({ids[Stores.TABLE]})),
    ]
    assert port.read_payloads(made.id, 3).payloads == ()

    assert port.refresh_webhook(made.id) is not None
    port.delete_webhook(made.id)
    port.delete_webhook(made.id)  # already gone: fine
    assert port.list_webhooks() == []


def test_a_notification_url_is_registered_and_other_specifications_are_not_ours(
    airtable: AirtableRig,
) -> None:
    port = webhooks(airtable)
    port.create_webhook("http://127.0.0.1:9/airtable/notify")
    airtable.sandbox.webhooks.create(
        airtable.sandbox.find_base(airtable.base.id),  # type: ignore[arg-type]
        {"specification": {"options": {"filters": {"dataTypes": ["tableData"]}}}},
    )
    hooks = sorted(port.list_webhooks(), key=lambda h: not h.giftbridge_spec)
    assert [h.giftbridge_spec for h in hooks] == [True, False]
    assert hooks[0].notification_url == "http://127.0.0.1:9/airtable/notify"


def test_a_missing_webhook_is_permanent_404_and_a_bad_cursor_permanent_422(
    airtable: AirtableRig,
) -> None:
    port = webhooks(airtable)
    with pytest.raises(Permanent) as gone:
        port.read_payloads("achNoSuchHook0000", 1)
    assert gone.value.status == 404
    made = port.create_webhook(None)
    with pytest.raises(Permanent) as ahead:
        port.read_payloads(made.id, 99)
    assert ahead.value.status == 422


def test_failures_become_retryable_or_rate_limited(airtable: AirtableRig) -> None:
    port = webhooks(airtable)
    made = port.create_webhook(None)
    airtable.sandbox.faults.add("airtable.payloads", "fail_before")
    with pytest.raises(Retryable):
        port.read_payloads(made.id, 1)
    airtable.sandbox.faults.add("airtable.payloads", "throttle")
    with pytest.raises(RateLimited):
        port.read_payloads(made.id, 1)


def test_every_call_waits_at_the_shared_limiter(airtable: AirtableRig) -> None:
    limiter = WindowLimiter("airtable", [Window(1000, 1.0)])
    port = webhooks(airtable, Limiters(airtable=limiter))
    made = port.create_webhook(None)
    port.list_webhooks()
    port.read_payloads(made.id, 1)
    port.refresh_webhook(made.id)
    port.delete_webhook(made.id)
    assert limiter.admitted == 5
    assert [e.operation for e in airtable.sandbox.request_log] == [
        "airtable.webhooks",
        "airtable.webhooks",
        "airtable.payloads",
        "airtable.webhooks",
        "airtable.webhooks",
    ]
