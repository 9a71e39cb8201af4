"""The status page at ``/``: plain HTML a person reads, refreshed by the browser every 10 s.

Everything shown comes from the daemon's memory (the health book, the Status rows read this
tick, the queue depths the prongs reported): rendering the page costs no outside call. Every
value is HTML-escaped; error lines were masked before they got here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape

from clients.records import StatusRow
from daemon.health import ProngView, RunRecord
from daemon.statuspage_business import PLAIN_NAMES, running_on

REFRESH_SECONDS = 10

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem; color: #222; }
.scroll { overflow-x: auto; margin-bottom: 1.5rem; } table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.ok, .idle, .running { color: #176b2c; } .paused { color: #8a6d00; }
.hung, .stalled, .failing, .failed { color: #b00020; font-weight: bold; }
.muted { color: #777; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def _prong_row(view: ProngView, row: StatusRow | None) -> str:
    table_state = row.state.value if row and row.state else "(no row)"
    lease = _e(row.owner) if row and row.owner else ""
    if row and row.lease_expires_at:
        lease += f"<br><span class=muted>until {_e(_time(row.lease_expires_at))}</span>"
    problems = "<br>".join(_e(p) for p in view.problems) or "<span class=muted>none</span>"
    last_error = _e(row.last_error) if row and row.last_error else ""
    plain = PLAIN_NAMES.get(view.name)
    name = f"{_e(plain)}<br><span class=muted>{_e(view.name)}</span>" if plain else _e(view.name)
    return (
        f"<tr><td>{name}</td><td class={_e(view.state)}>{_e(view.state)}</td>"
        f"<td>{_e(table_state)}</td><td>{lease}</td>"
        f"<td>{_e(_ago(view.since_finished))}</td><td>{_e(_time(view.last_ok_at))}</td>"
        f"<td>{view.consecutive_failures}</td><td>{problems}</td><td>{last_error}</td></tr>"
    )


def _run_row(prong: str, run: RunRecord) -> str:
    outcomes = ", ".join(f"{_e(k)} {v}" for k, v in run.outcomes) or ""
    repeats = f" ×{run.repeats}" if run.repeats > 1 else ""
    return (
        f"<tr><td>{_e(prong)}</td><td>{_e(_time(run.started_at))}</td>"
        f"<td class={_e(run.result.value)}>{_e(run.result.value)}{repeats}</td>"
        f"<td>{run.seconds:.2f} s</td><td>{run.processed}</td><td>{outcomes}</td>"
        f"<td>{_e(run.detail)}</td></tr>"
    )


def _about(key: str, value: str) -> str:
    if key == "owner":  # the lease owner, host:pid:random, in plain words
        return f"{_e(running_on(value))} <span class=muted>({_e(value)})</span>"
    return f"{_e(key)}: <b>{_e(value)}</b>"


def render(
    views: list[ProngView],
    rows: Mapping[str, StatusRow | None],
    queue_depths: Mapping[str, int],
    about: Mapping[str, str],
    healthy: bool,
    business: str = "",
) -> str:
    """The page; ``business`` is the HTML of :mod:`daemon.statuspage_business`, shown first."""
    head = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<meta http-equiv=refresh content={REFRESH_SECONDS}>"
        f"<title>giftbridge status</title><style>{_STYLE}</style></head><body>"
        f"<h1>giftbridge</h1><p class={'ok' if healthy else 'failed'}>"
        f"{'healthy' if healthy else 'NOT HEALTHY'}</p><p>"
        + " · ".join(_about(k, v) for k, v in about.items())
        + "</p>"
        + business
    )
    prongs = (
        "<h2>What giftbridge is doing</h2><div class=scroll><table><tr><th>part (prong)</th>"
        "<th>state</th><th>Status row</th><th>running on (lease owner)</th>"
        "<th>last run finished</th><th>last success</th>"
        "<th>failures in a row</th><th>problems</th><th>Last Error</th></tr>"
        + "".join(_prong_row(v, rows.get(v.name)) for v in views)
        + "</table></div>"
    )
    if queue_depths:
        queues = (
            "<h2>Queues</h2><div class=scroll><table><tr><th>queue</th><th>waiting</th></tr>"
            + "".join(f"<tr><td>{_e(q)}</td><td>{n}</td></tr>" for q, n in queue_depths.items())
            + "</table></div>"
        )
    else:
        queues = "<h2>Queues</h2><p class=muted>no queue depths reported yet</p>"
    runs = [(v.name, r) for v in views for r in v.recent]
    runs.sort(key=lambda item: item[1].started_at, reverse=True)
    recent = (
        "<h2>Recent runs</h2><div class=scroll><table><tr><th>prong</th><th>started</th>"
        "<th>result</th><th>took</th><th>processed</th><th>outcomes</th><th>detail</th></tr>"
        + "".join(_run_row(p, r) for p, r in runs)
        + "</table></div><p class=muted>Idle runs and repeated skips are folded into one line (×n)."
        "</p>"
    )
    return head + prongs + queues + recent + "</body></html>"
