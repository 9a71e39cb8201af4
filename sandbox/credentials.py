"""The sandbox's own credentials, pepper and key: generated once, kept in ``STATE_DIR``.

They are not secrets worth protecting (the sandbox only listens on loopback), but a code sealed
under the sandbox's key must open again after a restart, so they persist like the data does.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from cryptography.fernet import Fernet

FILENAME = "sandbox-credentials.json"


@dataclass(frozen=True)
class SandboxCredentials:
    airtable_token: str
    shopify_access_token: str  # a legacy custom app's: still accepted, no longer printed
    shopify_client_id: str  # a Dev Dashboard app's: what `giftbridge sandbox` prints
    shopify_client_secret: str
    klaviyo_api_key: str
    airtable_base_id: str
    shop_domain: str
    code_pepper: str
    code_key: str

    @classmethod
    def generate(cls) -> SandboxCredentials:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        base = "".join(secrets.choice(alphabet) for _ in range(14))
        return cls(
            airtable_token="patSandbox" + secrets.token_hex(4) + "." + secrets.token_hex(16),
            shopify_access_token="shpat_sandbox_" + secrets.token_hex(16),
            shopify_client_id=secrets.token_hex(16),
            shopify_client_secret="shpss_sandbox_" + secrets.token_hex(16),
            klaviyo_api_key="pk_sandbox_" + secrets.token_hex(16),
            airtable_base_id="app" + base,
            shop_domain="giftbridge-sandbox.myshopify.com",
            code_pepper=secrets.token_hex(32),
            code_key=Fernet.generate_key().decode("ascii"),
        )


def load_or_create(state_dir: Path) -> SandboxCredentials:
    """The kept credentials; values a file written by an older sandbox lacks (the Dev Dashboard
    app's client id and secret) are generated once and added to it."""
    path = state_dir / FILENAME
    fresh = SandboxCredentials.generate()
    if path.exists():
        kept = json.loads(path.read_text("utf-8"))
        names = [f.name for f in fields(SandboxCredentials)]
        loaded = SandboxCredentials(**{n: kept.get(n, getattr(fresh, n)) for n in names})
        if set(names) - set(kept):
            _write(path, loaded)
        return loaded
    state_dir.mkdir(parents=True, exist_ok=True)
    _write(path, fresh)
    return fresh


def _write(path: Path, created: SandboxCredentials) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(created), handle, indent=2)
    tmp.replace(path)
