"""The webhook state file (atomic, private, a lost or foreign file is a lost cursor) and the
notification MAC check."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

from daemon.push import mac_matches
from daemon.push_state import FILENAME, WebhookState, WebhookStateFile

BASE = "appPushStateTest1"


def _state(cursor: int = 7) -> WebhookState:
    return WebhookState(BASE, "achPushStateTest1", "c2VjcmV0", cursor, None)


def test_saved_state_round_trips_privately_and_hides_its_secret(tmp_path: Path) -> None:
    store = WebhookStateFile(tmp_path / "state")
    store.save(_state())
    assert store.load(BASE) == _state()
    assert stat.S_IMODE((tmp_path / "state" / FILENAME).stat().st_mode) == 0o600
    assert "c2VjcmV0" not in repr(_state()) and "achPushStateTest1" in repr(_state())
    store.save(_state(8))  # replaced whole, never half-written
    assert store.load(BASE) == _state(8)
    assert [p.name for p in (tmp_path / "state").iterdir()] == [FILENAME]


def test_a_missing_unreadable_or_foreign_file_is_a_lost_cursor(tmp_path: Path) -> None:
    store = WebhookStateFile(tmp_path)
    assert store.load(BASE) is None
    store.path.write_text("{not json")
    assert store.load(BASE) is None
    store.path.write_text('{"base_id": "appSomewhereElse1"}')
    assert store.load(BASE) is None
    store.save(_state())
    assert store.load("appAnotherBase001") is None
    store.forget()
    assert store.load(BASE) is None


def test_the_mac_is_hmac_sha256_of_the_raw_body_under_the_secret() -> None:
    secret, body = b"\x00\x01secret", b'{"base":{"id":"app"}}'
    good = "hmac-sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert mac_matches(secret, body, good)
    assert mac_matches(secret, body, good + "\r\n")  # header whitespace is not the MAC
    assert not mac_matches(secret, body + b" ", good)  # the raw body, byte for byte
    assert not mac_matches(b"other", body, good)
    assert not mac_matches(secret, body, good.replace("hmac-sha256=", "sha256="))
    assert not mac_matches(secret, body, None) and not mac_matches(secret, body, "")
    assert not mac_matches(secret, body, "hmac-sha256=ü")  # never a TypeError
