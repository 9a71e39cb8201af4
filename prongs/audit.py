"""The audit prong: drift between Shopify and Airtable found, classified and repaired.

Composition root::

    progress = AuditProgress(store)          # once per process; store: prongs.audit_state
    report = run_once(deps, AuditConfig(currency="USD", ...), budget, gate, progress=progress)

The daemon runs it every tick; a run does nothing (no outside call) until something is due:

1. **Open repairs** left by a crash are finished first (:mod:`prongs.audit_repair`).
2. **Incremental**, every ``interval`` (AUDIT_INTERVAL_SECONDS): the cards Shopify updated since
   the mark (``giftCards(query: "updated_at:>=…")``, pages in id order), their rows (by Shopify
   GID), their fields and their transactions since the mark. The next mark is where this one
   stopped looking less ``overlap`` (search-index lag); cards updated in the last ``settle``
   wait for the next run (a till's debit and its mirror may be in flight). A note-less
   transaction still awaiting the online prongs holds the mark back to its time.
3. **Full pass**, at least every ``full_every`` (a day) and on request (``giftbridge audit
   --full``): every card, in chunks of ``chunk_cards`` (two Shopify pages of 250) joined to the
   rows in the same range of card numbers (Airtable pages of 100: about one request per 100
   cards). Fields are compared for all; transactions only for *suspects* (a field differs, or
   Shopify changed the card after giftbridge last synced its row): the incremental runs read
   every changed card's transactions. A row whose card is not in Shopify is confirmed gone with
   a direct read; a card whose note carries giftbridge's key and has no row gets it restored.
   The pass resumes from its cursor (the last card number compared) in the next run, also after
   a restart, so a pass of any size finishes: about 500 cards per 10 s of Shopify's bucket.

Every Shopify and Airtable call runs at ``Priority.BULK`` (a till's redemption goes first at the
shared limiters; the Shopify limiter also keeps a reserve of its bucket for them). The lease is
claimed before the first write only: a pass that finds nothing never touches the Status row.
A run stops at a chunk boundary when its budget is spent; a chunk's cursor moves only once every
finding in it is handled, so a run cut short finds the rest again.
"""

from __future__ import annotations

from clients.ports import Priority, priority
from prongs import audit_passes, audit_repair
from prongs.audit_run import PRONG as PRONG
from prongs.audit_run import AuditConfig as AuditConfig
from prongs.audit_run import AuditProgress as AuditProgress
from prongs.audit_run import AuditRun
from prongs.deps import Deps
from prongs.report import Budget, Gate, RunReport


def run_once(
    deps: Deps, config: AuditConfig, budget: Budget, gate: Gate, *, progress: AuditProgress
) -> RunReport:
    run = AuditRun(deps, config, budget, gate, progress)
    now = deps.clock.now()
    state = progress.state
    with priority(Priority.BULK):
        if state.open and not run.should_stop():
            audit_repair.finish_open(run)
        if state.incremental_due(now, config.interval) and not run.should_stop():
            audit_passes.incremental(run)
        if state.full_due(now, config.full_every) and not run.should_stop():
            audit_passes.full_pass(run)
    return run.report
