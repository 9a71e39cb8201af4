"""`giftbridge sandbox` prints its environment and the real clients work with those lines alone."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from klaviyo_api import KlaviyoAPI
from pyairtable import Api

from cards.vocab import Prong
from config.layout import Status, Stores
from tests.net import free_port_base

EXPORT = re.compile(r"^export (GIFTBRIDGE_[A-Z_]+)='([^']*)'$")
EXPECTED = {
    "GIFTBRIDGE_AIRTABLE_API_URL",
    "GIFTBRIDGE_AIRTABLE_CONTENT_URL",
    "GIFTBRIDGE_SHOPIFY_GRAPHQL_URL",
    "GIFTBRIDGE_KLAVIYO_API_URL",
    "GIFTBRIDGE_AIRTABLE_TOKEN",
    "GIFTBRIDGE_SHOPIFY_CLIENT_ID",
    "GIFTBRIDGE_SHOPIFY_CLIENT_SECRET",
    "GIFTBRIDGE_KLAVIYO_API_KEY",
    "GIFTBRIDGE_AIRTABLE_BASE_ID",
    "GIFTBRIDGE_SHOPIFY_SHOP",
    "GIFTBRIDGE_CODE_PEPPER",
    "GIFTBRIDGE_CODE_KEY",
}


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBRIDGE_")}
    env["GIFTBRIDGE_STATE_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "daemon", "sandbox", "--port-base", str(free_port_base())]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    lines: dict[str, str] = {}
    started = time.monotonic()
    while len(lines) < len(EXPECTED) and time.monotonic() - started < 20:
        line = proc.stdout.readline()
        if not line:
            break
        match = EXPORT.match(line.rstrip("\n"))
        assert match, f"stdout carries only export lines, got {line!r}"
        lines[match.group(1)] = match.group(2)
    elapsed = time.monotonic() - started
    try:
        assert set(lines) == EXPECTED, lines
        assert elapsed < 10, f"took {elapsed:.1f} s to print the environment"
        yield proc, lines
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()


def test_export_lines_alone_drive_all_three_services(
    sandbox_process: tuple[subprocess.Popen[str], dict[str, str]], tmp_path: Path
) -> None:
    proc, env = sandbox_process
    # The lines are valid shell: sourcing them yields the same values.
    script = "\n".join(f"export {k}='{v}'" for k, v in env.items())
    shown = subprocess.run(
        ["bash", "-c", f"{script}\nenv"], capture_output=True, text=True, check=True
    ).stdout
    for name, value in env.items():
        assert f"{name}={value}" in shown.splitlines()

    api = Api(
        env["GIFTBRIDGE_AIRTABLE_TOKEN"],
        endpoint_url=env["GIFTBRIDGE_AIRTABLE_API_URL"],
        retry_strategy=None,
        timeout=(5, 5),
    )
    base = api.base(env["GIFTBRIDGE_AIRTABLE_BASE_ID"])
    assert {t.name for t in base.schema().tables} >= {"Gift Cards", "Receipts", "Status"}
    assert len(base.table(Stores.TABLE).all()) >= 1
    prongs = {r["fields"][Status.PRONG] for r in base.table(Status.TABLE).all()}
    assert prongs == {p.value for p in Prong}

    # A Dev Dashboard app's way: the client credentials grant at the endpoint's origin.
    origin = env["GIFTBRIDGE_SHOPIFY_GRAPHQL_URL"].split("/admin/")[0]
    grant = requests.post(
        f"{origin}/admin/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["GIFTBRIDGE_SHOPIFY_CLIENT_ID"],
            "client_secret": env["GIFTBRIDGE_SHOPIFY_CLIENT_SECRET"],
        },
        timeout=5,
    )
    assert grant.status_code == 200 and grant.json()["expires_in"] == 86399
    transport = AIOHTTPTransport(
        url=env["GIFTBRIDGE_SHOPIFY_GRAPHQL_URL"],
        headers={"X-Shopify-Access-Token": grant.json()["access_token"]},
        timeout=5,
    )

    async def read_shop() -> dict[str, Any]:
        async with Client(transport=transport, execute_timeout=10) as session:
            result = await session.execute(gql("query { shop { myshopifyDomain currencyCode } }"))
            return dict(result)

    shop = asyncio.run(read_shop())
    assert shop["shop"]["myshopifyDomain"] == env["GIFTBRIDGE_SHOPIFY_SHOP"]

    klaviyo = KlaviyoAPI(
        env["GIFTBRIDGE_KLAVIYO_API_KEY"],
        max_retries=1,
        test_host=env["GIFTBRIDGE_KLAVIYO_API_URL"],
    )
    klaviyo.Events.create_event(
        {
            "data": {
                "type": "event",
                "attributes": {
                    "metric": {
                        "data": {"type": "metric", "attributes": {"name": "Gift Card Balance"}}
                    },
                    "profile": {
                        "data": {"type": "profile", "attributes": {"email": "a@example.com"}}
                    },
                    "properties": {"found": False},
                    "unique_id": "balance:recA1b2C3d4E5f6G7:customer",
                },
            }
        },
        _request_timeout=5,
    )

    # One set of stand-ins per data directory: a second one refuses, naming the running one.
    second = subprocess.run(
        [sys.executable, "-m", "sandbox", "--port-base", str(free_port_base())],
        capture_output=True,
        text=True,
        env={**os.environ, "GIFTBRIDGE_STATE_DIR": str(tmp_path)},
        timeout=30,
        check=False,
    )
    assert second.returncode == 3 and second.stdout == ""
    assert "another sandbox" in second.stderr and "sandbox.env" in second.stderr
    running = (tmp_path / "sandbox" / "sandbox.env").read_text()
    assert all(f"export {k}='{v}'" in running for k, v in env.items())

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0
    assert not (tmp_path / "sandbox" / "sandbox.env").exists()
    # Data and credentials persist for the next start.
    assert (tmp_path / "sandbox" / "airtable.json").exists()
    assert (tmp_path / "sandbox" / "sandbox-credentials.json").stat().st_mode & 0o077 == 0
