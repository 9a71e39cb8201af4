"""Check a parsed formula against a table, then evaluate it per record.

Static problems (syntax, unknown fields or functions, wrong arity) are a 422
``INVALID_FILTER_BY_FORMULA`` for the whole request. Run-time problems (``#ERROR!``: a bad date,
division by zero, text in arithmetic) make only that record not match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sandbox.airtable.errors import AirtableError, bad_formula
from sandbox.airtable.formula import (
    BinaryOp,
    Call,
    FieldRef,
    FormulaSyntaxError,
    Negate,
    Node,
    Number,
    Text,
    calls,
    field_names,
    parse,
)
from sandbox.airtable.formula_functions import FUNCTIONS, Arg
from sandbox.airtable.formula_values import (
    FormulaRuntimeError,
    Value,
    arithmetic,
    compare,
    to_number,
    to_text,
    truthy,
)


@dataclass
class EvalContext:
    """What a formula can see of one record."""

    record_id: str
    created: datetime
    now: datetime
    field_value: Callable[[str], Value]
    modified_at: Callable[[list[str] | None], datetime]

    def last_modified(self, field_names: list[str] | None) -> datetime:
        return self.modified_at(field_names)


def compile_formula(source: str, field_exists: Callable[[str], bool]) -> Node:
    """Parse and check ``source``; raise the API's 422 when it cannot run on this table."""
    try:
        node = parse(source)
        referenced = field_names(node)
        found = calls(node)
    except FormulaSyntaxError:
        raise bad_formula("Invalid formula. Please check your formula text.") from None
    except RecursionError:
        raise bad_formula("The formula is nested too deeply.") from None
    unknown = sorted(name for name in referenced if not field_exists(name))
    if unknown:
        raise bad_formula(f"Unknown field names: {', '.join(unknown)}")
    for call in found:
        _check_call(call)
    return node


def _check_call(call: Call) -> None:
    function = FUNCTIONS.get(call.name)
    if function is None:
        raise bad_formula(f"Unknown function {call.name} (not supported by the sandbox)")
    count = len(call.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        raise bad_formula(f"Wrong number of arguments to {call.name}")
    if call.name == "LAST_MODIFIED_TIME" and not all(isinstance(a, FieldRef) for a in call.args):
        raise bad_formula("LAST_MODIFIED_TIME takes field references only")


def evaluate(node: Node, ctx: EvalContext) -> Value:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Text):
        return node.value
    if isinstance(node, FieldRef):
        return ctx.field_value(node.name)
    if isinstance(node, Negate):
        return -to_number(evaluate(node.operand, ctx))
    if isinstance(node, BinaryOp):
        left, right = evaluate(node.left, ctx), evaluate(node.right, ctx)
        if node.op == "&":
            return to_text(left) + to_text(right)
        if node.op in ("+", "-", "*", "/"):
            return arithmetic(node.op, left, right)
        return compare(node.op, left, right)
    args = [Arg(a, _thunk(a, ctx)) for a in node.args]
    return FUNCTIONS[node.name].impl(ctx, args)


def _thunk(node: Node, ctx: EvalContext) -> Callable[[], Value]:
    return lambda: evaluate(node, ctx)


def matches(node: Node, ctx: EvalContext) -> bool:
    """Whether the record passes the filter; an ``#ERROR!`` result does not."""
    try:
        return truthy(evaluate(node, ctx))
    except (FormulaRuntimeError, OverflowError, ValueError):
        return False
    except RecursionError:
        raise AirtableError(
            422, "INVALID_FILTER_BY_FORMULA", "The formula is nested too deeply."
        ) from None
