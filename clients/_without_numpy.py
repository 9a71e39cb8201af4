"""Import fpdf2 as if numpy were not installed.

fpdf2 imports numpy whenever it is installed, only to speed up image work certificates never
do. matplotlib (for ``giftbridge report``) brings numpy along, and loading it would add about
12 MB to the daemon, whose idle budget is 150 MB. Inside :func:`numpy_hidden` an ``import
numpy`` fails as if it were absent (fpdf2 then takes its plain path, as it did before
matplotlib was a dependency); afterwards numpy imports normally, so the report still draws.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def numpy_hidden() -> Iterator[None]:
    if "numpy" in sys.modules:  # already loaded by someone else: nothing to save
        yield
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # the import system's "absent"
    try:
        yield
    finally:
        if sys.modules.get("numpy", 0) is None:
            del sys.modules["numpy"]
