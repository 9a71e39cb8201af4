"""The status page's business sections: headline figures, what needs an operator, the report.

Rendered from the last :class:`daemon.summary.Snapshot` (a refresh every few minutes): showing
the page never calls Airtable. Words are an operator's, not the code's: "Store requests", not
``store-transactions``; every request that needs a person links to its Airtable record.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from cards.headline import Headline
from cards.report_figures import Tally
from clients.report_records import FlaggedRequest, record_url
from daemon.report_files import LatestReport
from daemon.summary import Snapshot

#: What each prong does, in an operator's words (the page shows both).
PLAIN_NAMES = {
    "store-transactions": "Store requests",
    "shopify-purchases": "Online purchases",
    "shopify-redemptions": "Online redemptions",
    "expiry": "Expiry",
    "audit": "Audit",
}
#: One request of each table, in an operator's words.
REQUEST_NAMES = {
    "Store Redemptions": "Store redemption",
    "Creation Requests": "Card sale",
    "Balance Checks": "Balance check",
    "Card Actions": "Card action",
}
REPORT_COMMAND = "giftbridge report"

STYLE = """
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem;
  margin-bottom: 1rem; }
.tile { border: 1px solid #d6dbe1; border-radius: 8px; padding: .5rem .7rem; background: #fff; }
.tile span { color: #5f6b7a; font-size: .85rem; display: block; }
.tile b { font-size: 1.2rem; } .tile small { color: #5f6b7a; display: block; }
.attention li { margin-bottom: .6rem; } .attention .why { color: #5f6b7a; }
code { background: #f0f2f5; padding: .1rem .3rem; border-radius: 4px; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _tally(tally: Tally) -> str:
    cards = "1 card" if tally.count == 1 else f"{tally.count} cards"
    return f"{tally.value.as_string()}</b><small>{cards}</small><b>"


def _headline(h: Headline) -> str:
    cur = _e(h.currency)
    tiles = (
        (f"Owed on cards ({cur})", f"{h.owed.as_string()}"),
        (f"Issued today ({cur})", _tally(h.issued_today)),
        (f"Issued this month ({cur})", _tally(h.issued_month)),
        (f"Redeemed today ({cur})", _tally(h.redeemed_today)),
        (f"Redeemed this month ({cur})", _tally(h.redeemed_month)),
    )
    return "<div class=tiles>" + "".join(
        f"<div class=tile><span>{label}</span><b>{value}</b></div>".replace("<b></b>", "")
        for label, value in tiles
    ) + "</div>"


def figures_section(snapshot: Snapshot | None, error: str | None) -> str:
    if snapshot is None:
        why = f": {_e(error)}" if error else " (the first summary is being read)"
        return f"<h2>The business</h2><p class=muted>No figures yet{why}.</p>"
    note = (
        f"Figures as of {_when(snapshot.refreshed_at)}, read every "
        f"{snapshot.every_seconds / 60:.0f} minutes; the amount owed as of "
        f"{_when(snapshot.liability_as_of)}. Days and months are UTC."
    )
    failed = (
        f"<p class=failed>The last refresh failed: {_e(snapshot.error)}</p>"
        if snapshot.error
        else ""
    )
    tiles = "".join(_headline(h) for h in snapshot.headline.values())
    return f"<h2>The business</h2>{failed}{tiles}<p class=muted>{note}</p>"


def _request_item(request: FlaggedRequest, snapshot: Snapshot) -> str:
    name = REQUEST_NAMES.get(request.table, request.table)
    if request.stuck:
        why = "left in Processing for more than 10 minutes"
    else:
        outcome = f" ({request.outcome})" if request.outcome else ""
        why = f"Needs Attention{outcome}"
    message = f"<br>{_e(request.message)}" if request.message else ""
    table_id = snapshot.table_ids.get(request.table)
    where = (
        f"<a href='{_e(record_url(snapshot.base_id, table_id, request.record_id))}'>"
        f"open {_e(request.record_id)} in Airtable</a>"
        if table_id
        else f"{_e(request.table)} record {_e(request.record_id)}"
    )
    return (
        f"<li><b>{_e(name)}</b> <span class=why>{_e(why)}, submitted "
        f"{_e(_when(request.created_time))}</span>{message}<br>{where}</li>"
    )


def attention_section(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return ""
    if not snapshot.flagged:
        return "<h2>Needs you</h2><p class=ok>No request needs a person.</p>"
    ordered = sorted(snapshot.flagged, key=lambda r: (not r.stuck, r.created_time))
    items = "".join(_request_item(r, snapshot) for r in ordered)
    return (
        f"<h2>Needs you ({len(ordered)})</h2><ul class=attention>{items}</ul>"
        "<p class=muted>Each links to its record in Airtable; its Result Message says what "
        "happened.</p>"
    )


def report_section(latest: LatestReport | None) -> str:
    run = f"Run <code>{REPORT_COMMAND}</code> for a new one (it writes under STATE_DIR/reports)."
    if latest is None:
        return f"<h2>Report</h2><p>No report yet. {run}</p>"
    return (
        f"<h2>Report</h2><p><a href='/report'>The latest sales and liability report</a>, "
        f"written {_e(_when(latest.written_at))} <span class=muted>({_e(latest.path)})</span>. "
        f"{run}</p>"
    )


def render(
    snapshot: Snapshot | None, error: str | None, latest: LatestReport | None
) -> str:
    """The business sections, placed at the top of the status page: what needs a person
    first, then the figures, then the report."""
    return (
        f"<style>{STYLE}</style>"
        + attention_section(snapshot)
        + figures_section(snapshot, error)
        + report_section(latest)
    )


def running_on(owner: str) -> str:
    """``host:pid:random`` (the lease owner) in plain words."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    return f"running on host {host}" + (f" (process {pid})" if pid else "")
