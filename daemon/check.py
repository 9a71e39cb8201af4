"""``giftbridge check``: every credential proven by a real call, one line per problem.

- Airtable: the base's schema (token, base, scope ``schema.bases:read``), one record
  (``data.records:read``), then the layout. A 401 is the token rejected; a 403 or 404 is the base
  not found or out of the token's reach, unless records can be read (then the schema scope is
  missing).
- Shopify: the shop's name, domain and currency and the token's scopes in one query, which first
  fetches a token when the credential is a Dev Dashboard app's: the client id or secret
  rejected, a token rejected (401), the endpoint unreachable are each named as such.
  ``CURRENCY`` must equal the shop's ``currencyCode``.
- Klaviyo: the newest event's time (a read: nothing is sent): the key rejected (401) or lacking
  events access (403).

Each check reports what it proved or its problems; a failed credential stops the checks that
need it (no second line about the same cause). Nothing here prints a secret or a token: the
error texts are giftbridge's own, and the token endpoint's are stripped of the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from clients.errors import ClientError, Permanent, Retryable
from clients.ports import ShopifyPort
from clients.shopify_auth import TokenRejected, TokenUnavailable
from clients.shopify_grant import CredentialsRejected
from config.layout import Status
from config.settings import env_name
from daemon.preflight import SHOPIFY_SCOPES, start_problems

if TYPE_CHECKING:  # the adapter's module loads gql and aiohttp: not for `giftbridge --help`
    from clients.shopify import ShopFacts
    from daemon.bootstrap_check import CheckPlan
    from daemon.clients import Clients

RECORDS_TABLE = Status.TABLE  # any table giftbridge reads: this one always has rows


@runtime_checkable
class AirtableCheck(Protocol):
    def check(self) -> list[str]: ...

    def read_one_record(self, table: str) -> None: ...


@runtime_checkable
class ShopCheck(Protocol):
    def shop_facts(self) -> ShopFacts: ...


@runtime_checkable
class KlaviyoCheck(Protocol):
    def check_key(self) -> None: ...


@dataclass
class Findings:
    proven: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __iadd__(self, other: Findings) -> Findings:
        self.proven += other.proven
        self.problems += other.problems
        return self


def _unreachable(service: str, where: str, exc: ClientError, variable: str) -> str:
    return f"{service}: cannot reach {where} ({exc.detail}): check {variable} and the network"


def _status(exc: ClientError) -> int | None:
    return exc.status if isinstance(exc, Permanent) else None


# --- Airtable -----------------------------------------------------------------------------
def check_airtable(admin: AirtableCheck, base_id: str, api_url: str) -> Findings:
    found = Findings()
    token, base = env_name("airtable_token"), env_name("airtable_base_id")
    try:
        layout = admin.check()
    except Retryable as exc:
        found.problems.append(_unreachable("airtable", api_url, exc, env_name("airtable_api_url")))
        return found
    except ClientError as exc:
        found.problems.append(_airtable_refusal(admin, exc, base_id, token, base))
        return found
    try:
        admin.read_one_record(RECORDS_TABLE)
    except ClientError as exc:
        if _status(exc) in (401, 403):
            found.problems.append(
                f"airtable: the token lacks the scope data.records:read (HTTP {_status(exc)}): "
                "add it to the token (Developer hub > Personal access tokens)"
            )
        else:
            found.problems.append(f"airtable: cannot read the {RECORDS_TABLE} table ({exc})")
        return found
    found.proven.append(f"airtable: token accepted, base {base_id} readable")
    found.problems += [f"airtable base: {p}" for p in layout]
    if not layout:
        found.proven.append("airtable: the base has every table, field and option giftbridge uses")
    return found


def _airtable_refusal(
    admin: AirtableCheck, exc: ClientError, base_id: str, token: str, base: str
) -> str:
    status = _status(exc)
    if status == 401:
        return f"airtable: the token was rejected (HTTP 401): check {token}"
    if status in (403, 404):
        try:
            admin.read_one_record(RECORDS_TABLE)
        except ClientError:
            return (
                f"airtable: base {base_id} was not found or the token cannot reach it "
                f"(HTTP {status}): check {base} and the token's access (Developer hub > "
                "Personal access tokens > your token > Access)"
            )
        return (
            f"airtable: the token lacks the scope schema.bases:read (HTTP {status}): add it "
            "to the token (Developer hub > Personal access tokens)"
        )
    return f"airtable: cannot read the base's schema ({exc})"


# --- Shopify ------------------------------------------------------------------------------
def check_shopify(
    shop: ShopCheck, currency: str, graphql_url: str, *, client_credentials: bool
) -> Findings:
    found = Findings()
    try:
        facts = shop.shop_facts()
    except ClientError as exc:
        found.problems.append(_shopify_refusal(exc, graphql_url, client_credentials))
        return found
    how = "a token from the client credentials grant" if client_credentials else "the token"
    found.proven.append(
        f"shopify: {how} was accepted by {facts.name} ({facts.domain}), currency {facts.currency}"
    )
    if facts.currency != currency:
        found.problems.append(
            f"{env_name('currency')} is {currency} but the shop's currency is {facts.currency}: "
            f"set {env_name('currency')}={facts.currency}"
        )
    missing = scope_problems(facts.scopes)
    found.problems += missing
    if not missing:
        found.proven.append("shopify: the token has every scope giftbridge uses")
    return found


def scope_problems(granted: Iterable[str]) -> list[str]:
    have = set(granted)
    return [
        f"shopify: the access token lacks the scope {scope} (add it to the app's scopes and "
        "install the new version on the shop)"
        for scope in SHOPIFY_SCOPES
        if scope not in have and scope.replace("read_", "write_", 1) not in have
    ]


def _shopify_refusal(exc: ClientError, graphql_url: str, client_credentials: bool) -> str:
    if isinstance(exc, TokenUnavailable):
        cause = exc.cause
        if isinstance(cause, CredentialsRejected):
            detail = cause.detail.removeprefix("CREDENTIALS_REJECTED: ")
            return (
                f"shopify: the client id or secret was rejected ({detail}): check "
                f"{env_name('shopify_client_id')} and {env_name('shopify_client_secret')} "
                "(Dev Dashboard > your app > Settings) and that the app is installed on the shop"
            )
        endpoint = graphql_url.split("/admin/")[0] + "/admin/oauth/access_token"
        reason = cause.detail if cause is not None else exc.detail
        return (
            f"shopify: no access token from {endpoint} ({reason}): check "
            f"{env_name('shopify_shop')} and the network"
        )
    if isinstance(exc, TokenRejected):
        return f"shopify: {exc.detail.removeprefix('UNAUTHORIZED: ')}"
    if isinstance(exc, Retryable):
        variable = env_name("shopify_shop") + " (or " + env_name("shopify_graphql_url") + ")"
        return _unreachable("shopify", graphql_url, exc, variable)
    return f"shopify: cannot read the shop ({exc})"


# --- Klaviyo ------------------------------------------------------------------------------
def check_klaviyo(email: KlaviyoCheck, api_url: str) -> Findings:
    found = Findings()
    try:
        email.check_key()
    except Retryable as exc:
        found.problems.append(_unreachable("klaviyo", api_url, exc, env_name("klaviyo_api_url")))
        return found
    except ClientError as exc:
        key = env_name("klaviyo_api_key")
        status = _status(exc)
        if status == 401:
            line = f"klaviyo: the API key was rejected (HTTP 401): check {key} (a private key)"
        elif status == 403:
            line = (
                f"klaviyo: the API key lacks events access (HTTP 403): give {key} the scope "
                "Events: Full access (Settings > API keys)"
            )
        else:
            line = f"klaviyo: the API key could not be checked ({exc})"
        found.problems.append(line)
        return found
    found.proven.append("klaviyo: API key accepted (read one event; nothing sent)")
    return found


Check = Callable[[], Findings]


def run_checks(checks: Iterable[Check]) -> Findings:
    """Every check, each on its own: one failing never hides another's problems."""
    found = Findings()
    for check in checks:
        found += check()
    return found


def _scopes_only(shop: ShopifyPort) -> Findings:
    try:
        granted = shop.access_scopes()
    except ClientError as exc:
        return Findings(problems=[f"shopify: cannot read the token's access scopes ({exc})"])
    return Findings(problems=scope_problems(granted))


def check_all(plan: CheckPlan, clients: Clients) -> Findings:
    """Airtable, Shopify and Klaviyo through these clients (a test's fakes that cannot prove a
    credential get the layout and scope checks alone)."""
    admin, shop, email = clients.base_admin, clients.shopify, clients.email
    checks: list[Check] = []
    airtable: object = admin  # a BaseAdmin proves the token too; a fake may not
    if isinstance(airtable, AirtableCheck):
        checks.append(lambda: check_airtable(airtable, plan.base_id, plan.airtable_url))
    else:
        checks.append(lambda: Findings(problems=start_problems(admin, None)))
    if isinstance(shop, ShopCheck):
        checks.append(
            lambda: check_shopify(
                shop, plan.currency, plan.graphql_url, client_credentials=plan.client_credentials
            )
        )
    else:
        checks.append(lambda: _scopes_only(shop))
    if isinstance(email, KlaviyoCheck):
        checks.append(lambda: check_klaviyo(email, plan.klaviyo_url))
    return run_checks(checks)
