"""Tests of the adapters in clients/: units, contracts against the sandboxes, cassettes."""

from __future__ import annotations
