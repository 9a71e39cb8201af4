"""`python -m daemon`: the same as the `giftbridge` command."""

from __future__ import annotations

from daemon.cli import main

raise SystemExit(main())
