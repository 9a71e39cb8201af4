"""Airtable formula syntax: a tokenizer and a recursive-descent parser producing a small AST.

Grammar (lowest precedence first, all binary operators left-associative)::

    comparison := concat (("=" | "!=" | "<" | "<=" | ">" | ">=") concat)*
    concat     := additive ("&" additive)*
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "{" field "}" | NAME "(" args ")" | NAME | "(" comparison ")"

String literals take single or double quotes; a backslash escapes the next character (``\\n``
and ``\\t`` are a newline and a tab), which is exactly how ``pyairtable.formulas.quoted`` escapes.
A bare NAME not followed by "(" is a field reference (single-word field names need no braces).
"""

from __future__ import annotations

from dataclasses import dataclass

_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "&", "+", "-", "*", "/", "(", ")", ",")
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_ESCAPES = {"n": "\n", "t": "\t"}


class FormulaSyntaxError(ValueError):
    """The formula cannot be parsed (a 422 INVALID_FILTER_BY_FORMULA)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "number", "string", "field", "name", "op", "end"
    text: str
    position: int


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper case
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class BinaryOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


Node = Number | Text | FieldRef | Call | BinaryOp | Negate


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char.isspace():
            index += 1
        elif char in "'\"":
            text, index = _read_string(source, index)
            tokens.append(Token("string", text, index))
        elif char == "{":
            text, index = _read_field(source, index)
            tokens.append(Token("field", text, index))
        elif char.isdigit() or (char == "." and source[index + 1:index + 2].isdigit()):
            text, index = _read_number(source, index)
            tokens.append(Token("number", text, index))
        elif char.isalpha() or char == "_":
            start = index
            while index < len(source) and (source[index].isalnum() or source[index] == "_"):
                index += 1
            tokens.append(Token("name", source[start:index], start))
        else:
            op = next((op for op in _OPERATORS if source.startswith(op, index)), None)
            if op is None:
                raise FormulaSyntaxError(f"unexpected character {char!r} at {index}")
            tokens.append(Token("op", op, index))
            index += len(op)
    tokens.append(Token("end", "", len(source)))
    return tokens


def _read_string(source: str, start: int) -> tuple[str, int]:
    quote, index, parts = source[start], start + 1, []
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            following = source[index + 1]
            parts.append(_ESCAPES.get(following, following))
            index += 2
        elif char == quote:
            return "".join(parts), index + 1
        else:
            parts.append(char)
            index += 1
    raise FormulaSyntaxError(f"unterminated string starting at {start}")


def _read_field(source: str, start: int) -> tuple[str, int]:
    index, parts = start + 1, []
    while index < len(source):
        char = source[index]
        if char == "\\" and source[index + 1:index + 2] == "}":
            parts.append("}")
            index += 2
        elif char == "}":
            return "".join(parts), index + 1
        else:
            parts.append(char)
            index += 1
    raise FormulaSyntaxError(f"unterminated field reference starting at {start}")


def _read_number(source: str, start: int) -> tuple[str, int]:
    index = start
    while index < len(source) and (source[index].isdigit() or source[index] == "."):
        index += 1
    if index < len(source) and source[index] in "eE":
        exp = index + 1
        if exp < len(source) and source[exp] in "+-":
            exp += 1
        if exp < len(source) and source[exp].isdigit():
            index = exp
            while index < len(source) and source[index].isdigit():
                index += 1
    text = source[start:index]
    if text.count(".") > 1:
        raise FormulaSyntaxError(f"malformed number {text!r} at {start}")
    return text, index


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def is_op(self, *ops: str) -> bool:
        return self.current.kind == "op" and self.current.text in ops

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            raise FormulaSyntaxError(f"expected {op!r} at {self.current.position}")
        self.index += 1

    def binary(self, ops: frozenset[str] | tuple[str, ...], operand: str) -> Node:
        parse = getattr(self, operand)
        node: Node = parse()
        while self.current.kind == "op" and self.current.text in ops:
            op = self.take().text
            node = BinaryOp(op, node, parse())
        return node

    def comparison(self) -> Node:
        return self.binary(_COMPARISONS, "concat")

    def concat(self) -> Node:
        return self.binary(("&",), "additive")

    def additive(self) -> Node:
        return self.binary(("+", "-"), "term")

    def term(self) -> Node:
        return self.binary(("*", "/"), "unary")

    def unary(self) -> Node:
        if self.is_op("-"):
            self.take()
            return Negate(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Number(float(token.text))
        if token.kind == "string":
            return Text(token.text)
        if token.kind == "field":
            return FieldRef(token.text)
        if token.kind == "name":
            if not self.is_op("("):
                return FieldRef(token.text)
            self.take()
            return Call(token.text.upper(), self.arguments())
        if token.kind == "op" and token.text == "(":
            node = self.comparison()
            self.expect(")")
            return node
        what = token.text or "end of formula"
        raise FormulaSyntaxError(f"unexpected {what!r} at {token.position}")

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if self.is_op(")"):
            self.take()
            return ()
        while True:
            args.append(self.comparison())
            if self.is_op(")"):
                self.take()
                return tuple(args)
            self.expect(",")


def parse(source: str) -> Node:
    """Parse a whole formula; raise FormulaSyntaxError on anything left over or malformed."""
    parser = _Parser(tokenize(source))
    node = parser.comparison()
    if parser.current.kind != "end":
        raise FormulaSyntaxError(f"unexpected {parser.current.text!r} at {parser.current.position}")
    return node


def field_names(node: Node) -> set[str]:
    """Every field the formula references."""
    if isinstance(node, FieldRef):
        return {node.name}
    if isinstance(node, Call):
        return set().union(*(field_names(a) for a in node.args)) if node.args else set()
    if isinstance(node, BinaryOp):
        return field_names(node.left) | field_names(node.right)
    if isinstance(node, Negate):
        return field_names(node.operand)
    return set()


def calls(node: Node) -> list[Call]:
    """Every function call in the formula, outermost first."""
    if isinstance(node, Call):
        return [node, *(c for a in node.args for c in calls(a))]
    if isinstance(node, BinaryOp):
        return calls(node.left) + calls(node.right)
    if isinstance(node, Negate):
        return calls(node.operand)
    return []
