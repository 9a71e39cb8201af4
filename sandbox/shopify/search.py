"""Shopify's search syntax (https://shopify.dev/api/usage/search-syntax), parsed for real.

Grammar (``OR`` binds looser than ``AND``, and juxtaposition is an implicit ``AND``)::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*
    unary    := "NOT" unary | "-" unary | primary
    primary  := "(" or_expr ")" | term
    term     := NAME ":" [ "<" | ">" | "<=" | ">=" ] value  |  value      (free text)
    value    := bare word | 'single quoted' | "double quoted"

``-`` negates only when glued to what follows (``-tag:x``); a lone ``-`` is text. Evaluation
takes the resource's field matchers; a field a resource does not know is ignored (it matches
everything) and reported as a warning, as Shopify does. ``tag_not:x`` is ``NOT tag:x``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")

COMPARATORS = ("<=", ">=", "<", ">")


class SearchSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    field: str | None  # None: free text
    comparator: str  # ":" (equals), "<", ">", "<=", ">="
    value: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Term | Not | And | Or


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    quote, i, out = text[start], start + 1, []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise SearchSyntaxError("unterminated quoted value")


class Token(NamedTuple):
    kind: str  # "(", ")", "-" (glued negation), "quoted" (free text), "word"
    text: str
    quoted: str | None = None  # a word's quoted value: field:'a b' -> text "field:", quoted "a b"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token(char, char))
            i += 1
        elif char == "-" and i + 1 < len(text) and not text[i + 1].isspace():
            tokens.append(Token("-", "-"))
            i += 1
        elif char in "'\"":
            value, i = _read_quoted(text, i)
            tokens.append(Token("quoted", value))
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in "()'\"":
                i += 1
            word = text[start:i]
            if i < len(text) and text[i] in "'\"" and word[-1:] in (":", "<", ">", "="):
                value, i = _read_quoted(text, i)  # field:"quoted value"
                tokens.append(Token("word", word, value))
            else:
                tokens.append(Token("word", word))
    return tokens


def _term(token: Token) -> Term:
    if token.kind == "quoted":
        return Term(None, ":", token.text)
    name, sep, rest = token.text.partition(":")
    if not (sep and name and (name[0].isalpha() or name[0] == "_")):
        return Term(None, ":", token.text)
    comparator = ":"
    for candidate in COMPARATORS:
        if rest.startswith(candidate):
            comparator, rest = candidate, rest[len(candidate):]
            break
    return Term(name.lower(), comparator, token.quoted if token.quoted is not None else rest)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def is_keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text == word

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_expr()
        if self.peek() is not None:
            raise SearchSyntaxError("unbalanced parenthesis")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.is_keyword("OR"):
            self.pos += 1
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.unary()]
        while ((token := self.peek()) is not None and token.kind != ")"
               and not self.is_keyword("OR")):
            if self.is_keyword("AND"):
                self.pos += 1
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def unary(self) -> Node:
        token = self.peek()
        if self.is_keyword("NOT") or (token is not None and token.kind == "-"):
            self.pos += 1
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token is None or token.kind == ")":
            raise SearchSyntaxError("expected a term")
        self.pos += 1
        if token.kind == "(":
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise SearchSyntaxError("missing closing parenthesis")
            self.pos += 1
            return node
        term = _term(token)
        if term.field == "tag_not":
            return Not(Term("tag", term.comparator, term.value))
        return term


def parse_query(text: str | None) -> Node | None:
    """The query's syntax tree; None for an empty query (everything matches)."""
    return _Parser(tokenize(text or "")).parse()


Matcher = Callable[[T, str, str], bool]  # (item, comparator, value) -> matches


@dataclass
class Filter(Generic[T]):
    """A parsed query bound to one resource's field matchers."""

    tree: Node | None
    fields: Mapping[str, Matcher[T]]
    free_text: Callable[[T, str], bool]
    warnings: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for unknown in sorted(self._unknown_fields(self.tree)):
            self.warnings.append({"field": unknown,
                                  "message": "Invalid search field for this query."})

    def _unknown_fields(self, node: Node | None) -> set[str]:
        if node is None:
            return set()
        if isinstance(node, Term):
            return {node.field} if node.field and node.field not in self.fields else set()
        if isinstance(node, Not):
            return self._unknown_fields(node.operand)
        return set().union(*(self._unknown_fields(op) for op in node.operands))

    def matches(self, item: T) -> bool:
        return self._eval(self.tree, item)

    def _eval(self, node: Node | None, item: T) -> bool:
        if node is None:
            return True
        if isinstance(node, Term):
            if node.field is None:
                return self.free_text(item, node.value)
            matcher = self.fields.get(node.field)
            return True if matcher is None else matcher(item, node.comparator, node.value)
        if isinstance(node, Not):
            return not self._eval(node.operand, item)
        if isinstance(node, And):
            return all(self._eval(op, item) for op in node.operands)
        return any(self._eval(op, item) for op in node.operands)
