"""The vocabularies the base layout fixes: statuses, outcomes, actions, kinds, sources.

Each enum's values are exactly the select options of ``config/airtable-base.json`` (a test loads
the JSON and compares), so a typo fails in CI rather than as a 422 in a store.
"""

from __future__ import annotations

from enum import StrEnum


class CardStatus(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    REDEEMED = "Redeemed"
    VOIDED = "Voided"
    EXPIRED = "Expired"


class Kind(StrEnum):
    GIFT_CARD = "Gift Card"
    CERTIFICATE = "Certificate"


class Theme(StrEnum):
    STANDARD = "Standard"
    BIRTHDAY = "Birthday"
    WEDDING = "Wedding"
    HOLIDAY = "Holiday"
    THANK_YOU = "Thank You"


class CardSource(StrEnum):
    STORE = "Store"
    ONLINE = "Online"
    MANUAL = "Manual"
    PORTAL = "Portal"
    IMPORTED = "Imported"
    BULK = "Bulk"


class Channel(StrEnum):
    STORE = "Store"
    PHONE = "Phone"
    EMAIL = "Email"
    PORTAL = "Portal"
    BULK = "Bulk"


class RequestStatus(StrEnum):
    """A request queue's Status. Blank means new; Processing is the recorded intent."""

    PROCESSING = "Processing"
    DONE = "Done"
    REJECTED = "Rejected"
    NEEDS_ATTENTION = "Needs Attention"


class RedemptionOutcome(StrEnum):
    SUCCESS = "Success"
    FORMAT_INCORRECT = "Format Incorrect"
    NOT_FOUND = "Not Found"
    INSUFFICIENT_BALANCE = "Insufficient Balance"
    EXPIRED = "Expired"
    VOIDED = "Voided"
    EXCEEDS_ORDER_TOTAL = "Exceeds Order Total"
    NOT_ACTIVE = "Not Active"
    INVALID_AMOUNT = "Invalid Amount"
    NOT_ALLOWED = "Not Allowed"
    ERROR = "Error"


class CreationOutcome(StrEnum):
    CREATED = "Created"
    INVALID_AMOUNT = "Invalid Amount"
    INVALID_EMAIL = "Invalid Email"
    MISSING_INFORMATION = "Missing Information"
    PORTAL_DISABLED = "Portal Disabled"
    NOT_ALLOWED = "Not Allowed"
    ERROR = "Error"


class BalanceOutcome(StrEnum):
    SENT = "Sent"
    FORMAT_INCORRECT = "Format Incorrect"
    NOT_FOUND = "Not Found"
    RATE_LIMITED = "Rate Limited"
    INVALID_EMAIL = "Invalid Email"
    ERROR = "Error"


class CardActionType(StrEnum):
    VOID = "Void"
    REACTIVATE = "Reactivate"
    RESEND = "Resend"
    REGENERATE_PDF = "Regenerate PDF"
    ADJUST_BALANCE = "Adjust Balance"
    EXTEND_EXPIRY = "Extend Expiry"


class CardActionOutcome(StrEnum):
    APPLIED = "Applied"
    NOT_ALLOWED = "Not Allowed"
    CARD_NOT_FOUND = "Card Not Found"
    INVALID_AMOUNT = "Invalid Amount"
    ERROR = "Error"


class ReceiptAction(StrEnum):
    CREATED = "Created"
    PURCHASED = "Purchased"
    PURCHASED_ONLINE = "Purchased Online"
    PURCHASED_FROM_PORTAL = "Purchased from Portal"
    ACTIVATED_FROM_PORTAL = "Activated from Portal"
    REDEEMED = "Redeemed"
    REDEEMED_ONLINE = "Redeemed Online"
    REFUNDED_ONLINE = "Refunded Online"
    VOIDED = "Voided"
    REACTIVATED = "Reactivated"
    EXPIRED = "Expired"
    SENT = "Sent"
    CERTIFICATE_REGENERATED = "Certificate Regenerated"
    BALANCE_CHECKED = "Balance Checked"
    ADJUSTED = "Adjusted"
    EXPIRY_CHANGED = "Expiry Changed"
    REDEMPTION_REJECTED = "Redemption Rejected"
    DRIFT_DETECTED = "Drift Detected"
    DRIFT_REPAIRED = "Drift Repaired"
    EMAIL_FAILED = "Email Failed"
    REMINDER_SENT = "Reminder Sent"
    ALERT_SENT = "Alert Sent"

    @property
    def slug(self) -> str:
        """The receipt action in lower case with dashes, as references use it."""
        return self.value.lower().replace(" ", "-")


class ReceiptSource(StrEnum):
    STORE = "Store"
    ONLINE = "Online"
    MANUAL = "Manual"
    PORTAL = "Portal"
    DAEMON = "Daemon"
    SHOPIFY = "Shopify"


class OrderKind(StrEnum):
    PURCHASE = "Purchase"
    REDEMPTION = "Redemption"
    REFUND = "Refund"


class OrderOutcome(StrEnum):
    PROCESSED = "Processed"
    SKIPPED = "Skipped"
    NEEDS_ATTENTION = "Needs Attention"


class ProngState(StrEnum):
    EXECUTING = "Executing"
    OFFLINE = "Offline"
    PAUSED = "Paused"


class Audience(StrEnum):
    """Who an email goes to; part of every Klaviyo ``unique_id`` and Sent receipt reference."""

    RECIPIENT = "recipient"
    PURCHASER = "purchaser"
    STORE = "store"
    CUSTOMER = "customer"
    OPERATOR = "operator"


class Metric(StrEnum):
    """Klaviyo metric names: a Klaviyo flow triggers on each."""

    ISSUED = "Gift Card Issued"
    PURCHASE_CONFIRMATION = "Gift Card Purchase Confirmation"
    STORE_NOTICE = "Gift Card Store Notice"
    BALANCE = "Gift Card Balance"
    EXPIRING_SOON = "Gift Card Expiring Soon"
    VOIDED = "Gift Card Voided"
    ALERT = "Giftbridge Alert"


class Prong(StrEnum):
    STORE_TRANSACTIONS = "store-transactions"
    SHOPIFY_PURCHASES = "shopify-purchases"
    SHOPIFY_REDEMPTIONS = "shopify-redemptions"
    EXPIRY = "expiry"
    AUDIT = "audit"


_DONE_OUTCOMES = {"Success", "Created", "Sent", "Applied"}


def request_status_for(
    outcome: StrEnum, *, email_failed: bool = False, balance_check: bool = False
) -> RequestStatus:
    """DESIGN.md's mapping from a request's Outcome to its final Status.

    Done when the request did what it asked (or a balance check's answer was emailed, found or
    not); Needs Attention for Error, or when the money step succeeded but an email kept failing;
    Rejected for every validation or business outcome.
    """
    if outcome.value == "Error" or email_failed:
        return RequestStatus.NEEDS_ATTENTION
    if outcome.value in _DONE_OUTCOMES or (balance_check and outcome.value == "Not Found"):
        return RequestStatus.DONE
    return RequestStatus.REJECTED
