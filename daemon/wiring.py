"""Settings -> each prong's config -> one ProngJob per prong, in priority order.

The only place prong configs are built from Settings. Every prong gets the process's one
:class:`~prongs.deps.Deps` (so they share its card locks); state a prong keeps between runs (the
late-refund sweep's mark, the store prong's book of failed attempts in ``STATE_DIR``) is built
here once and closed over by that prong's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.vocab import Prong
from config.settings import Settings
from daemon.attempts_file import FileAttempts
from daemon.audit_wiring import audit_job
from daemon.interval import IntervalSchedule
from daemon.runner import ProngJob
from prongs import expiry, shopify_purchases, shopify_redemptions, store_transactions
from prongs.deps import CardConfig, Deps
from prongs.expiry_run import ExpiryConfig
from prongs.orders_sweep import RefundSweep
from prongs.report import Budget, Gate, RunReport
from prongs.shopify_purchases import PurchasesConfig
from prongs.shopify_redemptions import RedemptionsConfig
from prongs.store_context import StoreConfig

# Airtable requests an idle run makes: the store prong polls its four queues; the Shopify
# prongs touch Airtable only when Shopify shows them an order.
STORE_QUEUES = 4


def card_config(settings: Settings) -> CardConfig:
    if settings.code_pepper is None or settings.code_key is None:
        raise ValueError("the pepper and the sealing key are required to run the prongs")
    return CardConfig(
        currency=settings.currency,
        business_name=settings.business_name,
        code_length=settings.code_length,
        limits=settings.amount_limits,
        expiry=settings.expiry,
        pepper=settings.code_pepper.get_secret_value(),
        code_key=settings.code_key.get_secret_value(),
    )


@dataclass(frozen=True, slots=True)
class ProngConfigs:
    """Every prong's config, built from Settings in one place."""

    store: StoreConfig
    purchases: PurchasesConfig
    redemptions: RedemptionsConfig
    expiry: ExpiryConfig


def prong_configs(settings: Settings) -> ProngConfigs:
    card = card_config(settings)
    return ProngConfigs(
        store=StoreConfig(
            card=card,
            portal_enabled=settings.portal_enabled,
            balance_checks_per_hour=settings.balance_checks_per_hour,
            alert_email=settings.alert_email,
        ),
        purchases=PurchasesConfig(
            card=card,
            gift_card_skus=settings.gift_card_skus,
            processed_tag=settings.processed_tag,
            order_window_days=settings.order_window_days,
            alert_email=settings.alert_email,
        ),
        redemptions=RedemptionsConfig(
            currency=settings.currency,
            redeemed_tag=settings.redeemed_tag,
            order_window_days=settings.order_window_days,
            alert_email=settings.alert_email,
        ),
        expiry=ExpiryConfig(
            business_name=settings.business_name,
            reminder_days=settings.reminder_days,
        ),
    )


def prong_jobs(settings: Settings, deps: Deps) -> list[ProngJob]:
    """The prongs over the process's one ``deps``; configs, the redemptions prong's late-refund
    sweep, the expiry prong's schedule and the audit's progress are built once and reused by
    every run."""
    configs = prong_configs(settings)
    sweep = RefundSweep()  # in memory: a restarted process sweeps the window again
    # Failed attempts of store requests, across runs and restarts (prongs.containment).
    attempts = FileAttempts(settings.state_dir, deps.clock.now())

    def run_store(budget: Budget, gate: Gate) -> RunReport:
        return store_transactions.run_once(deps, configs.store, budget, gate, attempts)

    def run_purchases(budget: Budget, gate: Gate) -> RunReport:
        return shopify_purchases.run_once(deps, configs.purchases, budget, gate)

    def run_redemptions(budget: Budget, gate: Gate) -> RunReport:
        return shopify_redemptions.run_once(deps, configs.redemptions, budget, gate, sweep=sweep)

    def run_expiry(budget: Budget, gate: Gate) -> RunReport:
        return expiry.run_once(deps, configs.expiry, budget, gate)

    # Once at start, then every EXPIRY_INTERVAL_SECONDS (its one filtered read is not a poll).
    expiry_schedule = IntervalSchedule(settings.expiry_interval_seconds, deps.clock.monotonic)
    return [
        ProngJob(Prong.STORE_TRANSACTIONS.value, run_store, airtable_polls_per_tick=STORE_QUEUES),
        ProngJob(Prong.SHOPIFY_PURCHASES.value, run_purchases, airtable_polls_per_tick=0),
        ProngJob(Prong.SHOPIFY_REDEMPTIONS.value, run_redemptions, airtable_polls_per_tick=0),
        ProngJob(
            Prong.EXPIRY.value,
            expiry_schedule.wrap(run_expiry),
            airtable_polls_per_tick=0,
            due=expiry_schedule.due,
        ),
        audit_job(settings, deps),
    ]
