"""The base layout against the live base (Metadata API): the start-up check and ``base init``.

The check compares names, types and select options with ``config/airtable-base.json`` and
tolerates what Airtable adds on read-back: ids, reciprocal link fields, extra tables and fields,
option colours and ids, date and checkbox format details, any currency symbol and precision.
Each problem is one line naming the table and field, e.g.
``Gift Cards: missing field 'Code Digest' (singleLineText) (run `giftbridge base init`)``.

``base init`` creates the missing tables (in dependency order, so a link can name its target's
table id) and the missing fields; it cannot add select options to an existing field or change a
field's type (Airtable's API cannot), so those stay as problems for a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from cards.money import minor_unit_exponent
from clients.airtable_tables import AirtableTables
from clients.errors import Permanent
from config.layout import FieldSpec, TableSpec, load_layout

log = structlog.get_logger()
LINK = "multipleRecordLinks"
SELECTS = ("singleSelect", "multipleSelects")
_SYMBOLS = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "MXN": "$",
    "SGD": "$",
    "HKD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "BRL": "R$",
    "ZAR": "R",
    "CHF": "CHF",
    "SEK": "kr",
    "NOK": "kr",
    "DKK": "kr",
    "PLN": "zł",
}
LiveTable = Mapping[str, Any]


def currency_options(currency: str) -> dict[str, Any]:
    """Airtable currency options for ``CURRENCY``: its usual symbol and its minor-unit digits."""
    return {"precision": minor_unit_exponent(currency), "symbol": _SYMBOLS.get(currency, currency)}


# --- the check (pure) -----------------------------------------------------------------------


def _fields_by_name(table: LiveTable) -> dict[str, Mapping[str, Any]]:
    return {f["name"]: f for f in table.get("fields", []) if isinstance(f, dict) and "name" in f}


def _choices(live_field: Mapping[str, Any]) -> set[str]:
    options = live_field.get("options") or {}
    names = (c.get("name") for c in options.get("choices", []) if isinstance(c, dict))
    return {n for n in names if isinstance(n, str)}


def field_problems(
    table: TableSpec,
    spec: FieldSpec,
    live: Mapping[str, Any] | None,
    table_names: Mapping[str, str],
) -> list[str]:
    """Problems of one layout field against its live counterpart (None: missing)."""
    where = f"{table.name}.{spec.name}"
    if live is None:
        return [
            f"{table.name}: missing field '{spec.name}' ({spec.type}) "
            "(run `giftbridge base init`)"
        ]
    if live.get("type") != spec.type:
        return [
            f"{where}: type is '{live.get('type')}', expected '{spec.type}' — change it by "
            "hand in Airtable"
        ]
    if spec.type in SELECTS:
        missing = [c for c in spec.choices if c not in _choices(live)]
        if missing:
            names = ", ".join(f"'{c}'" for c in missing)
            return [
                f"{where}: missing options {names} — add them by hand in Airtable "
                "(the API cannot add options)"
            ]
    if spec.type == LINK:
        target_id = (live.get("options") or {}).get("linkedTableId")
        target = table_names.get(target_id) if isinstance(target_id, str) else None
        wanted = spec.options.get("linkedTable")
        if target is not None and target != wanted:
            return [f"{where}: links to '{target}', expected '{wanted}'"]
    return []


def layout_problems(live_tables: Sequence[LiveTable], layout: Sequence[TableSpec]) -> list[str]:
    """Every way the live base differs from the layout that would break giftbridge."""
    by_name = {t.get("name"): t for t in live_tables}
    table_names = {
        str(t["id"]): str(t.get("name")) for t in live_tables if isinstance(t.get("id"), str)
    }
    problems: list[str] = []
    for spec in layout:
        live = by_name.get(spec.name)
        if live is None:
            problems.append(f"missing table '{spec.name}' (run `giftbridge base init`)")
            continue
        fields = _fields_by_name(live)
        for field_spec in spec.fields:
            problems += field_problems(spec, field_spec, fields.get(field_spec.name), table_names)
        problems += _primary_problem(spec, live)
    return problems


def _primary_problem(spec: TableSpec, live: LiveTable) -> list[str]:
    primary_id = live.get("primaryFieldId")
    if not spec.fields or not isinstance(primary_id, str):
        return []
    primary = next((f for f in live.get("fields", []) if f.get("id") == primary_id), None)
    wanted = spec.fields[0].name
    if primary is not None and primary.get("name") != wanted:
        return [f"{spec.name}: primary field is '{primary.get('name')}', expected '{wanted}'"]
    return []


# --- init (bodies are pure; the class sends them) ----------------------------------------------


def dependency_order(layout: Sequence[TableSpec]) -> list[TableSpec]:
    """Tables with every linked table before them (layout order otherwise): Stores first."""
    by_name = {t.name: t for t in layout}
    ordered: list[TableSpec] = []
    visiting: set[str] = set()

    def visit(table: TableSpec) -> None:
        if table in ordered:
            return
        if table.name in visiting:
            raise ValueError(f"the layout's links form a cycle through {table.name}")
        visiting.add(table.name)
        for target in table.links:
            if target in by_name and target != table.name:
                visit(by_name[target])
        visiting.discard(table.name)
        ordered.append(table)

    for table in layout:
        visit(table)
    return ordered


def field_body(spec: FieldSpec, table_ids: Mapping[str, str], currency: str) -> dict[str, Any]:
    """The Metadata API body that creates ``spec`` (links by table id, currency from CURRENCY)."""
    body: dict[str, Any] = {"name": spec.name, "type": spec.type}
    if spec.type == "currency":
        body["options"] = currency_options(currency)
    elif spec.type == LINK:
        target = spec.options["linkedTable"]
        if target not in table_ids:
            raise ValueError(f"{spec.name} links to {target}, which does not exist yet")
        body["options"] = {"linkedTableId": table_ids[target]}
    elif spec.options:
        body["options"] = dict(spec.options)
    return body


@dataclass(frozen=True, slots=True)
class InitReport:
    actions: list[str] = field(default_factory=list)  # what base init created
    problems: list[str] = field(default_factory=list)  # what is still wrong afterwards

    def __str__(self) -> str:
        lines = self.actions or ["nothing to create"]
        lines += [f"still to fix by hand: {p}" for p in self.problems]
        return "\n".join(lines)


class BaseAdmin:
    """Layout check and ``base init`` for one base, through the adapter's limiter and policy."""

    def __init__(self, tables: AirtableTables, layout: Sequence[TableSpec] | None = None) -> None:
        self._t = tables
        self._layout = tuple(layout) if layout is not None else load_layout()

    def close(self) -> None:
        self._t.api.session.close()

    def _url(self, *parts: str) -> str:
        return str(self._t.api.build_url("meta", "bases", self._t.base_id, "tables", *parts))

    def live_tables(self) -> list[dict[str, Any]]:
        body = self._t.read(lambda: self._t.request("GET", self._url(), None, "schema"), "schema")
        tables = body.get("tables") if isinstance(body, dict) else None
        return [t for t in tables or [] if isinstance(t, dict)]

    def check(self) -> list[str]:
        """The named problems of the live base; empty when giftbridge can run."""
        return layout_problems(self.live_tables(), self._layout)

    def read_one_record(self, table: str) -> None:
        """One record of ``table`` (or none): proves the token may read the base's data
        (scope ``data.records:read``), apart from its schema (``schema.bases:read``)."""
        self._t.list_records(table, max_records=1)

    def init(self) -> InitReport:
        live = {t["name"]: t for t in self.live_tables() if "name" in t}
        table_ids = {name: t["id"] for name, t in live.items() if "id" in t}
        actions: list[str] = []
        for spec in dependency_order(self._layout):
            if spec.name not in live:
                created = self._create_table(spec, table_ids)
                table_ids[spec.name] = created["id"]
                actions.append(f"created table '{spec.name}'")
                continue
            present = _fields_by_name(live[spec.name])
            for field_spec in spec.fields:
                if field_spec.name not in present:
                    self._create_field(table_ids[spec.name], field_spec, table_ids)
                    actions.append(f"created field '{spec.name}.{field_spec.name}'")
        for action in actions:
            log.info("base init", service="airtable", operation=action)
        return InitReport(actions, self.check())

    def _create_table(self, spec: TableSpec, table_ids: Mapping[str, str]) -> dict[str, Any]:
        body = {
            "name": spec.name,
            "description": spec.description,
            "fields": [field_body(f, table_ids, self._t.currency) for f in spec.fields],
        }
        operation = f"create table {spec.name}"
        result = self._t.write(
            lambda: self._t.request("POST", self._url(), body, operation),
            operation,
            idempotent=False,
        )
        if not isinstance(result, dict) or not isinstance(result.get("id"), str):
            raise Permanent(
                "airtable", operation, "the answer carries no table id", code="UNEXPECTED_RESPONSE"
            )
        return result

    def _create_field(self, table_id: str, spec: FieldSpec, table_ids: Mapping[str, str]) -> None:
        body = field_body(spec, table_ids, self._t.currency)
        operation = f"create field {spec.name}"
        self._t.write(
            lambda: self._t.request("POST", self._url(table_id, "fields"), body, operation),
            operation,
            idempotent=False,
        )
