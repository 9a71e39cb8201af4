"""Secrets systemd passes with ``LoadCredential=``, read as settings overrides at start.

The unit keeps secrets out of the environment: each is a file in ``$CREDENTIALS_DIRECTORY``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from config.settings import env_name

# Every secret setting: read from credential files, and redacted from every log line.
SECRET_FIELDS = (
    "airtable_token",
    "shopify_client_secret",
    "shopify_access_token",
    "klaviyo_api_key",
    "code_pepper",
    "code_key",
)


def systemd_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secrets systemd passed with ``LoadCredential=`` (files in ``$CREDENTIALS_DIRECTORY``).

    A file named after the field (``code_key``), the variable (``GIFTBRIDGE_CODE_KEY``) or, as a
    directory credential ``LoadCredential=giftbridge:/etc/giftbridge/credentials`` names them,
    ``giftbridge_code_key``. They win over the environment: the unit keeps secrets out of it."""
    env = os.environ if environ is None else environ
    directory = env.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return {}
    found: dict[str, str] = {}
    for name in SECRET_FIELDS:
        for candidate in (name, f"giftbridge_{name}", env_name(name)):
            path = Path(directory) / candidate
            if path.is_file():
                found[name] = path.read_text("utf-8").strip()
                break
    return found
