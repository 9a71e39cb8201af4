"""The composition root: settings -> knobs, sandbox secrets, seams, start checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from clients.adapter_config import ClientCredentials, StaticToken, Timeouts
from clients.errors import GiftbridgeError
from config.settings import Mode, Settings, load_settings
from daemon import bootstrap
from daemon.credentials import systemd_credentials
from daemon.metrics import Metrics
from tests.fakes import World

LIVE = {
    "airtable_token": "patLIVE0123456789",
    "shopify_access_token": "shpat_0123456789",
    "klaviyo_api_key": "pk_0123456789",
    "airtable_base_id": "appABCDEFGHIJKLMN",
    "shopify_shop": "my-shop.myshopify.com",
    "code_pepper": "p" * 40,
    "code_key": Fernet.generate_key().decode(),
}


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return load_settings(state_dir=tmp_path, _env_file=None, **values)


def test_sandbox_mode_starts_the_stand_ins_and_keeps_pepper_and_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.mode is Mode.SANDBOX and settings.code_key is None
    keys = []
    for _ in range(2):
        connected, stop = bootstrap.connect(settings)
        try:
            assert connected.mode is Mode.LIVE  # it now names a shop: the sandbox's
            assert connected.airtable_api_url.startswith("http://127.0.0.1:")
            assert connected.graphql_url is not None and "127.0.0.1" in connected.graphql_url
            assert connected.gift_card_skus == {"GC-DEMO"}
            assert connected.code_key is not None and connected.code_pepper is not None
            keys.append(connected.code_key.get_secret_value())
            clients = bootstrap.build_clients(connected, Metrics())
            try:
                assert bootstrap.preflight_problems(connected, clients) == []
            finally:
                clients.close()
        finally:
            stop()
    assert keys[0] == keys[1]  # kept in STATE_DIR: sealed codes open after a restart


def test_live_settings_are_used_as_given(tmp_path: Path) -> None:
    settings = _settings(tmp_path, **LIVE)
    connected, stop = bootstrap.connect(settings)
    assert connected is settings
    stop()
    assert not (tmp_path / "sandbox").exists()
    secrets = bootstrap.log_secrets(settings)
    assert LIVE["airtable_token"] in secrets and LIVE["code_key"] in secrets


def test_service_config_carries_every_timing_knob(tmp_path: Path) -> None:
    settings = _settings(tmp_path, tick_seconds=30, lease_seconds=120, http_port=9999)
    config = bootstrap.service_config(settings)
    assert (config.tick_seconds, config.lease_seconds, config.http_port) == (30, 120, 9999)
    assert config.stall_seconds == 120 + 60
    assert bootstrap.service_config(settings, http=False).http_port is None


def test_sandbox_settings_need_connect_and_jobs_come_in_priority_order(
    tmp_path: Path, world: World
) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(bootstrap.NotWired, match="connect"):
        bootstrap.build_clients(settings, Metrics())
    clients = bootstrap.Clients(world.airtable, world.shopify, world.email, world.certificates)
    jobs = bootstrap.build_prong_jobs(_settings(tmp_path, **LIVE), clients)
    assert [j.name for j in jobs] == [
        "store-transactions",
        "shopify-purchases",
        "shopify-redemptions",
        "expiry",
        "audit",
    ]
    assert sum(j.airtable_polls_per_tick for j in jobs) == 4


def test_assemble_closes_the_clients_when_start_checks_fail(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    clients = bootstrap.Clients(
        world.airtable,
        world.shopify,
        world.email,
        world.certificates,
        closers=[lambda: closed.append("airtable")],
    )
    monkeypatch.setattr(bootstrap, "build_clients", lambda s, m, **_: clients)
    with pytest.raises(bootstrap.PreflightFailed) as failed:
        bootstrap.assemble(_settings(tmp_path), Metrics())
    assert failed.value.problems == ["airtable: no Metadata API adapter to check the base layout"]
    assert closed == ["airtable"]


def test_a_write_scope_covers_its_read_scope(tmp_path: Path, world: World) -> None:
    world.shopify.scopes.discard("read_orders")  # write_orders is still granted
    clients = bootstrap.Clients(world.airtable, world.shopify, world.email, world.certificates)
    problems = bootstrap.preflight_problems(_settings(tmp_path), clients)
    assert not [p for p in problems if "scope" in p]


def test_systemd_credentials_win_over_the_environment(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "giftbridge_airtable_token").write_text("patFROMCREDENTIAL\n")
    (creds / "GIFTBRIDGE_CODE_PEPPER").write_text("q" * 40)
    (creds / "unrelated").write_text("ignored")
    found = systemd_credentials({"CREDENTIALS_DIRECTORY": str(creds)})
    assert found == {"airtable_token": "patFROMCREDENTIAL", "code_pepper": "q" * 40}
    assert systemd_credentials({}) == {}


def test_live_settings_build_the_real_adapters_and_close_them(tmp_path: Path) -> None:
    urls = {
        "airtable_api_url": "http://127.0.0.1:9",
        "airtable_content_url": "http://127.0.0.1:9",
        "klaviyo_api_url": "http://127.0.0.1:9",
        "shopify_graphql_url": "http://127.0.0.1:9/admin/api/2025-10/graphql.json",
    }
    clients = bootstrap.build_clients(_settings(tmp_path, **LIVE, **urls), Metrics())
    try:
        assert clients.base_admin is not None
        assert len(clients.closers) >= 4  # every adapter with a session is closed at the end
    finally:
        clients.close()


def test_the_embedded_sandbox_moves_to_free_ports_when_8701_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from daemon import embedded_sandbox

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", embedded_sandbox.DEFAULT_PORT_BASE))
    except OSError:
        holder.close()
        pytest.skip("port 8701 is in use by another process here")
    # Another process takes the port between our look and the child's bind.
    monkeypatch.setattr(embedded_sandbox, "_ports_free", lambda base: True)
    try:
        sandbox = embedded_sandbox.EmbeddedSandbox.start(tmp_path, demo=False)
        try:
            url = sandbox.environment["GIFTBRIDGE_AIRTABLE_API_URL"]
            assert url.startswith("http://127.0.0.1:") and not url.endswith(":8701")
        finally:
            sandbox.stop()
    finally:
        holder.close()


def test_settings_become_one_typed_config_per_adapter_once(tmp_path: Path) -> None:
    calls: list[tuple[str, str, float, str | None]] = []
    settings = _settings(tmp_path, **LIVE, call_timeout_seconds=3, currency="EUR")
    configs = bootstrap.adapter_configs(settings, on_call=lambda *call: calls.append(call))
    airtable, shopify, klaviyo = configs.airtable, configs.shopify, configs.klaviyo
    assert (airtable.base_id, airtable.currency) == (LIVE["airtable_base_id"], "EUR")
    assert airtable.token.get_secret_value() == LIVE["airtable_token"]
    assert airtable.api_url == "https://api.airtable.com" and airtable.penalty == 30.0
    assert shopify.credential == StaticToken(SecretStr(LIVE["shopify_access_token"]))
    assert shopify.graphql_url == "https://my-shop.myshopify.com/admin/api/2025-10/graphql.json"
    assert klaviyo.api_key.get_secret_value() == LIVE["klaviyo_api_key"]
    assert airtable.timeouts == shopify.timeouts == klaviyo.timeouts == Timeouts(3.0, 3.0)
    assert airtable.retry is shopify.retry is klaviyo.retry  # one policy, one metrics hook
    assert airtable.retry.call(lambda: 1, service="airtable", operation="get Stores") == 1
    assert [(s, o, e) for s, o, _, e in calls] == [("airtable", "get Stores", None)]
    assert LIVE["airtable_token"] not in repr(configs)  # secrets stay SecretStr


def test_a_dev_dashboard_app_is_carried_as_client_credentials(tmp_path: Path) -> None:
    live = {k: v for k, v in LIVE.items() if k != "shopify_access_token"}
    settings = _settings(
        tmp_path, **live, shopify_client_id="client-id", shopify_client_secret="shpss_secret"
    )
    credential = bootstrap.adapter_configs(settings).shopify.credential
    assert credential == ClientCredentials("client-id", SecretStr("shpss_secret"))
    assert "shpss_secret" in bootstrap.log_secrets(settings)  # the redactor knows it


def test_the_daemons_own_errors_are_in_the_one_tree() -> None:
    from daemon.embedded_sandbox import SandboxNotInstalled, SandboxStartFailed
    from daemon.lockfile import AlreadyRunning

    for error in (
        bootstrap.NotWired,
        bootstrap.PreflightFailed,
        SandboxStartFailed,
        SandboxNotInstalled,
        AlreadyRunning,
    ):
        assert issubclass(error, GiftbridgeError), error


def test_every_granted_token_is_redacted_from_logs_from_its_first_moment(tmp_path: Path) -> None:
    import io

    import structlog

    from daemon.logging import configure

    stream = io.StringIO()
    configure(stream=stream, json_lines=True)
    try:
        settings = _settings(tmp_path, shopify_graphql_url="http://127.0.0.1:9/x/graphql.json")
        config = bootstrap.shopify_config(
            settings, ClientCredentials("id", SecretStr("shpss_secret_value"))
        )
        assert config.on_token is not None and config.on_renewal_failing is not None
        config.on_token("shpat_fresh_token_0123")  # what the grant hands over
        structlog.get_logger().warning("oops", detail="sent shpat_fresh_token_0123")
        config.on_renewal_failing("Shopify calls stopped: no access token (HTTP 502)")
    finally:
        structlog.reset_defaults()
    text = stream.getvalue()
    assert "shpat_fresh_token_0123" not in text and "<SECRET>" in text
    # A command's config (check, report, cards): the alert's log line only. The daemon's is the
    # relay's, which also mails it (the next test).
    assert '"cause": "shopify-token"' in text


def test_the_daemon_mails_a_failing_token_renewal_and_a_push_fall_back(tmp_path: Path) -> None:
    """``assemble`` over the three stand-ins (in this process, over HTTP) with ALERT_EMAIL: the
    Shopify adapter's token renewal and push both reach the service's alerts."""
    from cards.vocab import Metric
    from clients.shopify_auth import TokenUnavailable
    from config.layout import Receipts
    from tests.e2e.push_daemon import daemon_settings, free_port, sandbox_trio

    operator = "ops@example.com"
    with sandbox_trio(tmp_path) as sandbox:
        port = free_port()
        settings = daemon_settings(
            sandbox,
            tmp_path / "state",
            port,
            alert_email=operator,
            run_budget_seconds=11,  # the failing grant's retries give up within a second
            call_timeout_seconds=5,
        )
        assembly = bootstrap.assemble(settings, Metrics(), http=True)
        try:
            watch, push, shop = assembly.service.alert_watch, assembly.service.push, sandbox.shopify
            assert watch is not None and push is not None and assembly.alerts.bound
            tokens = list(shop.tokens.issued)  # the start checks fetched one
            shop.tokens.revoke_all()  # the next call answers 401, and no token can be had:
            shop.faults.add("shopify.access_token", "fail_before", times=1000)
            with pytest.raises(TokenUnavailable):
                assembly.clients.shopify.get_card("gid://shopify/GiftCard/1")
            push.loop.on_unhealthy("webhook calls failing for 12 s: HTTP 503")  # a fall-back
            assert watch.tick() == 2 and watch.tick() == 0
        finally:
            assembly.close()
        events = sandbox.klaviyo.events_for(Metric.ALERT.value, operator)
        sent = {str(e.properties["cause"]): dict(e.properties) for e in events}
        assert set(sent) == {"shopify-token", "push-unhealthy"} and len(events) == 2
        shop_alert = sent["shopify-token"]
        assert str(shop_alert["subject"]).startswith(f"{sandbox.credentials.shop_domain}@")
        assert "Shopify calls stopped" in str(shop_alert["message"])
        assert shop_alert["link"] == sent["push-unhealthy"]["link"] == f"http://127.0.0.1:{port}/"
        references = [
            str(r["fields"].get(Receipts.REFERENCE))
            for r in sandbox.airtable.base().records(Receipts.TABLE)
        ]
        alerted = sorted(r.split(":")[1] for r in references if r.endswith(":alert-sent"))
        assert alerted == ["push-unhealthy", "shopify-token"]
        secret = sandbox.credentials.shopify_client_secret
        text = repr([e.properties for e in events]) + repr(references)
        assert tokens and not [t for t in [secret, *tokens] if t in text]
