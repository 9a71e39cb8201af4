"""``python -m sandbox``: the stand-ins' process entry point (``giftbridge sandbox`` runs this)."""

from __future__ import annotations

import sys

from sandbox.runner import main

if __name__ == "__main__":
    sys.exit(main())
