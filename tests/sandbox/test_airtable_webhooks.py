"""The Airtable stand-in's webhooks over HTTP: create, list, refresh, delete, payloads with their
sources and filters, expiry, notification pings with the MAC, and the rate limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from config.layout import StoreRedemptions, Stores
from tests.sandbox.conftest import BASE_ID, AirtableHarness

FILTERS_ALL_BUT_API = {
    "dataTypes": ["tableData"],
    "fromSources": ["client", "formSubmission", "automation"],
}


def _hooks_url(h: AirtableHarness, *parts: str) -> str:
    return "/".join([f"{h.url}/v0/bases/{BASE_ID}/webhooks", *parts])


def create(h: AirtableHarness, filters: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"specification": {"options": {"filters": filters}}}
    if url is not None:
        body["notificationUrl"] = url
    answer = h.http.post(_hooks_url(h), json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def payloads(h: AirtableHarness, hook_id: str, **params: Any) -> dict[str, Any]:
    answer = h.http.get(_hooks_url(h, hook_id, "payloads"), params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def listed(h: AirtableHarness) -> dict[str, dict[str, Any]]:
    answer = h.http.get(_hooks_url(h))
    assert answer.status_code == 200
    return {w["id"]: w for w in answer.json()["webhooks"]}


def submit_form(h: AirtableHarness, table: str, fields: dict[str, Any]) -> dict[str, Any]:
    answer = h.http.post(f"{h.url}/_sandbox/forms/{table}", json={"fields": fields})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def table_id(h: AirtableHarness, name: str) -> str:
    return str(next(t["id"] for t in h.sandbox.base().schema()["tables"] if t["name"] == name))


@pytest.fixture
def hooks(airtable: AirtableHarness) -> AirtableHarness:
    return airtable


def test_create_answers_id_secret_and_expiry_and_lists_without_the_secret(
    hooks: AirtableHarness,
) -> None:
    made = create(hooks, FILTERS_ALL_BUT_API)
    assert made["id"].startswith("ach") and len(made["id"]) == 17
    assert len(base64.b64decode(made["macSecretBase64"])) == 32
    assert made["expirationTime"].endswith("Z")
    shown = listed(hooks)[made["id"]]
    assert "macSecretBase64" not in shown
    assert shown["isHookEnabled"] is True and shown["cursorForNextPayload"] == 1
    assert shown["notificationUrl"] is None
    assert shown["specification"] == {"options": {"filters": FILTERS_ALL_BUT_API}}


@pytest.mark.parametrize(
    "filters",
    [
        {"dataTypes": ["tableData"], "fromSources": ["publicApi", "telepathy"]},
        {"dataTypes": []},
        {"fromSources": ["client"]},
        {"dataTypes": ["tableData"], "recordChangeScope": "tblNotInThisBase00"},
        {"dataTypes": ["tableData"], "colour": "blue"},
    ],
)
def test_a_bad_specification_is_refused(hooks: AirtableHarness, filters: dict[str, Any]) -> None:
    body = {"specification": {"options": {"filters": filters}}}
    answer = hooks.http.post(_hooks_url(hooks), json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["type"] == "INVALID_REQUEST_UNKNOWN"


def test_a_notification_url_must_be_https_except_to_loopback(hooks: AirtableHarness) -> None:
    spec = {"options": {"filters": {"dataTypes": ["tableData"]}}}
    plain = {"specification": spec, "notificationUrl": "http://example.com/airtable/notify"}
    assert hooks.http.post(_hooks_url(hooks), json=plain).status_code == 422
    create(hooks, {"dataTypes": ["tableData"]}, "https://gifts.example.com/airtable/notify")
    create(hooks, {"dataTypes": ["tableData"]}, "http://127.0.0.1:9/airtable/notify")


def test_ten_webhooks_per_base_at_most(hooks: AirtableHarness) -> None:
    for _ in range(10):
        create(hooks, {"dataTypes": ["tableData"]})
    answer = hooks.http.post(
        _hooks_url(hooks),
        json={"specification": {"options": {"filters": {"dataTypes": ["tableData"]}}}},
    )
    assert answer.status_code == 422 and answer.json()["error"]["type"] == "TOO_MANY_WEBHOOKS"


def test_rest_writes_are_public_api_and_forms_are_form_submissions(hooks: AirtableHarness) -> None:
    everything = create(hooks, {"dataTypes": ["tableData"]})["id"]
    ours = create(hooks, FILTERS_ALL_BUT_API)["id"]
    hooks.table(StoreRedemptions.TABLE).create({StoreRedemptions.CODE: "API-WRITE"})
    form = submit_form(hooks, StoreRedemptions.TABLE, {StoreRedemptions.CODE: "FORM-WRITE"})

    seen = payloads(hooks, everything)
    sources = [p["actionMetadata"]["source"] for p in seen["payloads"]]
    assert sources == ["publicApi", "formSubmission"]
    assert seen["cursor"] == 3 and seen["mightHaveMore"] is False

    filtered = payloads(hooks, ours)["payloads"]
    assert [p["actionMetadata"]["source"] for p in filtered] == ["formSubmission"]
    payload = filtered[0]
    assert payload["payloadFormat"] == "v0" and payload["baseTransactionNumber"] == 2
    tables = payload["changedTablesById"]
    assert list(tables) == [table_id(hooks, StoreRedemptions.TABLE)]
    created = tables[table_id(hooks, StoreRedemptions.TABLE)]["createdRecordsById"]
    assert list(created) == [form["id"]]
    assert "FORM-WRITE" in created[form["id"]]["cellValuesByFieldId"].values()
    assert listed(hooks)[ours]["cursorForNextPayload"] == 2


def test_updates_deletes_and_links_describe_each_table_they_touch(hooks: AirtableHarness) -> None:
    hook = create(hooks, {"dataTypes": ["tableData"]})["id"]
    store = hooks.table(Stores.TABLE).create({Stores.NAME: "Quay"})
    request = hooks.table(StoreRedemptions.TABLE).create({StoreRedemptions.CODE: "X"})
    hooks.table(StoreRedemptions.TABLE).update(
        request["id"], {StoreRedemptions.STORE: [store["id"]]}
    )
    hooks.table(StoreRedemptions.TABLE).delete(request["id"])
    found = payloads(hooks, hook)["payloads"]
    assert len(found) == 4
    linked = found[2]["changedTablesById"]
    assert set(linked) == {table_id(hooks, StoreRedemptions.TABLE), table_id(hooks, Stores.TABLE)}
    assert request["id"] in linked[table_id(hooks, StoreRedemptions.TABLE)]["changedRecordsById"]
    assert store["id"] in linked[table_id(hooks, Stores.TABLE)]["changedRecordsById"]
    deleted = found[3]["changedTablesById"][table_id(hooks, StoreRedemptions.TABLE)]
    assert deleted["destroyedRecordIds"] == [request["id"]]


def test_record_change_scope_and_change_types_filter(hooks: AirtableHarness) -> None:
    scope = table_id(hooks, Stores.TABLE)
    adds_to_stores = create(
        hooks, {"dataTypes": ["tableData"], "recordChangeScope": scope, "changeTypes": ["add"]}
    )["id"]
    store = hooks.table(Stores.TABLE).create({Stores.NAME: "Quay"})
    hooks.table(Stores.TABLE).update(store["id"], {Stores.NAME: "Quay 2"})
    hooks.table(StoreRedemptions.TABLE).create({StoreRedemptions.CODE: "X"})
    found = payloads(hooks, adds_to_stores)["payloads"]
    assert len(found) == 1
    assert set(found[0]["changedTablesById"][scope]) == {"createdRecordsById"}


def test_pages_follow_the_cursor_and_might_have_more(hooks: AirtableHarness) -> None:
    hook = create(hooks, {"dataTypes": ["tableData"]})["id"]
    for n in range(5):
        submit_form(hooks, StoreRedemptions.TABLE, {StoreRedemptions.CODE: f"C{n}"})
    first = payloads(hooks, hook, cursor=1, limit=2)
    assert len(first["payloads"]) == 2 and first["cursor"] == 3 and first["mightHaveMore"]
    rest = payloads(hooks, hook, cursor=first["cursor"], limit=50)
    assert len(rest["payloads"]) == 3 and rest["cursor"] == 6 and not rest["mightHaveMore"]
    empty = payloads(hooks, hook, cursor=6)
    assert empty == {"payloads": [], "cursor": 6, "mightHaveMore": False}
    past = hooks.http.get(_hooks_url(hooks, hook, "payloads"), params={"cursor": 9})
    assert past.status_code == 422
    assert (
        hooks.http.get(_hooks_url(hooks, hook, "payloads"), params={"limit": 51}).status_code == 422
    )


def test_expiry_refresh_and_reading_keep_a_webhook_alive(
    airtable_factory: Callable[..., AirtableHarness], layout: dict[str, Any]
) -> None:
    h = airtable_factory(layout=layout, webhook_lifetime_seconds=1.5)
    kept, left = (
        create(h, {"dataTypes": ["tableData"]})["id"],
        create(h, {"dataTypes": ["tableData"]})["id"],
    )
    for _ in range(6):  # 1.8 s: past the lifetime, read every 0.3 s
        time.sleep(0.3)
        payloads(h, kept)
    state = listed(h)
    assert state[kept]["isHookEnabled"] is True
    assert state[left]["isHookEnabled"] is False  # expired, still listed for a while
    refused = h.http.post(_hooks_url(h, left, "refresh"))
    assert refused.status_code == 422
    h.sandbox.base().submit_form(StoreRedemptions.TABLE, {StoreRedemptions.CODE: "LATE"})
    assert len(payloads(h, kept)["payloads"]) == 1
    assert payloads(h, left)["payloads"] == []  # an expired webhook records nothing more
    refreshed = h.http.post(_hooks_url(h, kept, "refresh"))
    assert refreshed.status_code == 200 and refreshed.json()["expirationTime"].endswith("Z")
    h.sandbox.webhooks.expire(kept)
    assert listed(h)[kept]["isHookEnabled"] is False


def test_delete_and_unknown_ids(hooks: AirtableHarness) -> None:
    hook = create(hooks, {"dataTypes": ["tableData"]})["id"]
    assert hooks.http.delete(_hooks_url(hooks, hook)).status_code == 200
    assert listed(hooks) == {}
    gone = hooks.http.get(_hooks_url(hooks, hook, "payloads"))
    assert gone.status_code == 404
    assert hooks.http.post(_hooks_url(hooks, hook, "refresh")).status_code == 404


def test_webhook_calls_spend_the_base_rate_limit(
    airtable_factory: Callable[..., AirtableHarness], layout: dict[str, Any]
) -> None:
    h = airtable_factory(layout=layout, rate_limit=5, penalty_seconds=30.0)
    statuses = [h.http.get(_hooks_url(h)).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert h.http.get(f"{h.records_url(Stores.TABLE)}").status_code == 429  # the whole base
    form = h.http.post(
        f"{h.url}/_sandbox/forms/{Stores.TABLE}",
        json={"fields": {Stores.NAME: "Forms do not spend the API's limit"}},
    )
    assert form.status_code == 200


# --- notifications -------------------------------------------------------------------------
class _Receiver:
    """A local HTTP server recording Airtable's pings; answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.pings: list[tuple[bytes, str | None]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.pings.append((body, self.headers.get("X-Airtable-Content-MAC")))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/airtable/notify"


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _wait(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_change_pings_the_notification_url_with_the_mac(
    hooks: AirtableHarness, receiver: _Receiver
) -> None:
    made = create(hooks, FILTERS_ALL_BUT_API, receiver.url)
    hooks.table(StoreRedemptions.TABLE).create({StoreRedemptions.CODE: "OWN-WRITE"})
    time.sleep(0.3)
    assert receiver.pings == []  # the public API is filtered out: no payload, no ping
    submit_form(hooks, StoreRedemptions.TABLE, {StoreRedemptions.CODE: "FORM"})
    assert receiver.arrived.wait(5)
    body, mac = receiver.pings[0]
    assert json.loads(body) == {
        "base": {"id": BASE_ID},
        "webhook": {"id": made["id"]},
        "timestamp": json.loads(body)["timestamp"],
    }
    secret = base64.b64decode(made["macSecretBase64"])
    assert mac == "hmac-sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    _wait(lambda: listed(hooks)[made["id"]]["lastNotificationResult"] is not None)
    result = listed(hooks)[made["id"]]
    assert result["lastNotificationResult"]["success"] is True
    assert result["lastSuccessfulNotificationTime"] is not None


def test_a_failed_ping_is_recorded_and_retried(hooks: AirtableHarness, receiver: _Receiver) -> None:
    receiver.status = 503
    made = create(hooks, {"dataTypes": ["tableData"]}, receiver.url)
    submit_form(hooks, StoreRedemptions.TABLE, {StoreRedemptions.CODE: "FORM"})
    _wait(lambda: len(receiver.pings) >= 2)  # the first try and one retry a second later
    result = listed(hooks)[made["id"]]["lastNotificationResult"]
    assert result["success"] is False and result["error"]["message"] == "HTTP 503"
    assert listed(hooks)[made["id"]]["lastSuccessfulNotificationTime"] is None
