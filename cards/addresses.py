"""Email addresses as the domain accepts them: something@somewhere.tld, spaces around ignored.

Deliberately loose (Klaviyo does the real delivery check): it catches a name typed into an email
field, a missing ``@`` or a missing domain, which are the mistakes staff and customers make.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def is_email(text: str | None) -> bool:
    return bool(text) and _EMAIL.fullmatch((text or "").strip()) is not None
