"""``POST /airtable/notify`` on the endpoint over real HTTP: the body and headers reach the push
loop's judge, its answer goes back with an empty body, and nothing else accepts a POST."""

from __future__ import annotations

import http.client
from collections.abc import Iterator, Mapping

import pytest

from daemon.health import HealthBook
from daemon.http import MAX_NOTIFY_BODY, HttpEndpoint
from daemon.metrics import Metrics
from tests.fakes import FakeClock


class Judge:
    def __init__(self, answer: int = 204) -> None:
        self.answer = answer
        self.seen: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> int:
        self.seen.append((body, dict(headers)))
        return self.answer


def _endpoint(judge: Judge | None) -> HttpEndpoint:
    return HttpEndpoint(
        "127.0.0.1",
        0,
        health=HealthBook(["store-transactions"], FakeClock(), hung_after=90, stall_after=120),
        metrics=Metrics(),
        status_rows=dict,
        about=dict,
        notify=judge,
    ).start()


@pytest.fixture
def judge() -> Judge:
    return Judge()


@pytest.fixture
def port(judge: Judge) -> Iterator[int]:
    endpoint = _endpoint(judge)
    yield endpoint.port
    endpoint.stop()


def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_the_ping_reaches_the_judge_with_lower_case_headers(port: int, judge: Judge) -> None:
    body = b'{"base":{"id":"appX"},"webhook":{"id":"achY"},"timestamp":"t"}'
    mac = {"X-Airtable-Content-MAC": "hmac-sha256=00"}
    assert _post(port, "/airtable/notify", body, mac) == (204, b"")
    [(seen_body, headers)] = judge.seen
    assert seen_body == body and headers["x-airtable-content-mac"] == "hmac-sha256=00"
    judge.answer = 401
    assert _post(port, "/airtable/notify", body, mac) == (401, b"")


def test_oversized_bodies_and_other_paths_never_reach_the_judge(port: int, judge: Judge) -> None:
    big = b"x" * (MAX_NOTIFY_BODY + 1)
    assert _post(port, "/airtable/notify", big, {})[0] == 413
    assert _post(port, "/", b"{}", {})[0] == 404
    assert _post(port, "/airtable/notify/extra", b"{}", {})[0] == 404
    assert judge.seen == []


def test_without_notify_mode_there_is_no_notify_route() -> None:
    endpoint = _endpoint(None)
    try:
        assert _post(endpoint.port, "/airtable/notify", b"{}", {})[0] == 404
    finally:
        endpoint.stop()
