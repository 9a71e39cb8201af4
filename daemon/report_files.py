"""Where ``giftbridge report`` writes by default, and the newest report the status page links to.

Reports go to ``STATE_DIR/reports/<UTC time>/`` unless ``--out`` says otherwise, so the daemon
can serve the newest ``report.html`` at ``/report`` without making it (the report's charting
library stays out of the daemon's memory) and the page can name the command that makes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPORTS_DIR = "reports"
REPORT_FILE = "report.html"


def default_out(state_dir: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    return state_dir / REPORTS_DIR / stamp


@dataclass(frozen=True, slots=True)
class LatestReport:
    path: Path
    written_at: datetime


def latest_report(state_dir: Path) -> LatestReport | None:
    """The most recently written ``report.html`` under ``STATE_DIR/reports``, if any."""
    root = state_dir / REPORTS_DIR
    try:
        candidates = [p for p in root.glob(f"*/{REPORT_FILE}") if p.is_file()]
    except OSError:
        return None
    if not candidates:
        return None
    newest = max(candidates, key=lambda p: p.stat().st_mtime)
    return LatestReport(newest, datetime.fromtimestamp(newest.stat().st_mtime, UTC))
