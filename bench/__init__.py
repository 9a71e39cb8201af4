"""Benchmarks against the sandbox, run on demand (``python -m bench.<name>``), never as tests."""

from __future__ import annotations
