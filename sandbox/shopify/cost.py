"""Calculated query cost and the leaky bucket (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).

A simplified but honest version of Shopify's rules:
- scalars and enums cost 0, an object 1, a ``...Connection`` 2 plus, per requested item
  (``first``/``last``), the cost of one ``nodes`` / ``edges.node`` item (1 + its selections);
  ``pageInfo`` and cursors are free; a list of objects costs its ``first`` (else 1) times one item;
  nested connections multiply;
- fragments on a type condition other than the parent's: the most expensive one counts (as for
  interfaces and unions);
- each mutation root field costs 10, whatever it selects.
The actual cost uses the same rules over the data returned (items actually present).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)

MUTATION_COST = 10
CONNECTION_COST = 2


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    operation: OperationDefinitionNode
    variables: Mapping[str, Any]

    def size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return self._variable_int(value.name.value)
        return 1

    def _variable_int(self, name: str) -> int:
        raw = self.variables.get(name)
        if raw is None:
            for definition in self.operation.variable_definitions or ():
                if definition.variable.name.value == name and isinstance(
                        definition.default_value, IntValueNode):
                    raw = int(definition.default_value.value)
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else 1

    def parts(self, parent: GraphQLNamedType, selection_set: SelectionSetNode,
              ) -> list[tuple[str | None, GraphQLNamedType, FieldNode]]:
        """Flatten fragments: (type condition or None, type, field) for every field selected."""
        found: list[tuple[str | None, GraphQLNamedType, FieldNode]] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.append((None, parent, selection))
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition \
                    else None
                inner = selection.selection_set
            else:
                continue
            target = self.schema.get_type(condition) if condition else parent
            condition = None if condition == parent.name else condition
            found += [(condition or c, t, f) for c, t, f in self.parts(target or parent, inner)]
        return found


def _combine(parts: list[tuple[str | None, int]]) -> int:
    base = sum(cost for condition, cost in parts if condition is None)
    typed: dict[str, int] = {}
    for condition, cost in parts:
        if condition is not None:
            typed[condition] = typed.get(condition, 0) + cost
    return base + max(typed.values(), default=0)


def _field_type(parent: GraphQLNamedType, node: FieldNode) -> Any:
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    field = parent.fields.get(node.name.value)
    return field.type if field is not None else None


def _requested(walk: _Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode) -> int:
    return _combine([(condition, _requested_field(walk, owner, node))
                     for condition, owner, node in walk.parts(parent, selection_set)])


def _requested_field(walk: _Walk, parent: GraphQLNamedType, node: FieldNode) -> int:
    field_type = _field_type(parent, node)
    if field_type is None or node.selection_set is None:
        return 0
    named = get_named_type(field_type)
    if is_leaf_type(named):
        return 0
    if named.name.endswith("Connection"):
        return CONNECTION_COST + walk.size(node) * _item_cost(walk, named, node.selection_set,
                                                             lambda t, s: _requested(walk, t, s))
    one = 1 + _requested(walk, named, node.selection_set)
    return walk.size(node) * one if is_list_type(get_nullable_type(field_type)) else one


def _item_cost(walk: _Walk, connection: GraphQLNamedType, selection_set: SelectionSetNode,
               inner: Callable[[GraphQLNamedType, SelectionSetNode], int]) -> int:
    """What one item of a connection costs: its ``nodes`` and ``edges { node }`` selections."""
    cost = 0
    for _, owner, node in walk.parts(connection, selection_set):
        field_type = _field_type(owner, node)
        if field_type is None or node.selection_set is None:
            continue
        if node.name.value == "nodes":
            cost += 1 + inner(get_named_type(field_type), node.selection_set)
        elif node.name.value == "edges":
            edge = get_named_type(field_type)
            for _, edge_owner, edge_field in walk.parts(edge, node.selection_set):
                edge_type = _field_type(edge_owner, edge_field)
                if edge_field.name.value == "node" and edge_field.selection_set and edge_type:
                    cost += 1 + inner(get_named_type(edge_type), edge_field.selection_set)
    return cost


def _actual(walk: _Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode,
            data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    parts = []
    for condition, owner, node in walk.parts(parent, selection_set):
        key = node.alias.value if node.alias else node.name.value
        parts.append((condition, _actual_field(walk, owner, node, data.get(key))))
    return _combine(parts)


def _actual_field(walk: _Walk, parent: GraphQLNamedType, node: FieldNode, value: Any) -> int:
    field_type = _field_type(parent, node)
    if field_type is None or node.selection_set is None or value is None:
        return 0
    named = get_named_type(field_type)
    if is_leaf_type(named):
        return 0
    if named.name.endswith("Connection") and isinstance(value, dict):
        return _actual_connection(walk, named, node.selection_set, value)
    items = value if isinstance(value, list) else [value]
    return sum(1 + _actual(walk, named, node.selection_set, item) for item in items)


def _actual_connection(walk: _Walk, connection: GraphQLNamedType,
                       selection_set: SelectionSetNode, value: dict[str, Any]) -> int:
    cost = CONNECTION_COST
    for _, owner, sub in walk.parts(connection, selection_set):
        items = value.get(sub.alias.value if sub.alias else sub.name.value) or []
        if sub.name.value == "nodes":
            cost += _actual_field(walk, owner, sub, items)
        elif sub.name.value == "edges":  # an edge itself is free: only its node counts
            cost += _actual_field(walk, owner, sub, items) - len(items)
    return cost


def _walk(schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode,
          variables: Mapping[str, Any] | None) -> _Walk:
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    return _Walk(schema, fragments, operation, variables or {})


def requested_cost(schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode,
                   variables: Mapping[str, Any] | None) -> int:
    walk = _walk(schema, document, operation, variables)
    root = schema.mutation_type if operation.operation == OperationType.MUTATION \
        else schema.query_type
    if root is None:
        return 0
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for _, _, node in walk.parts(root, operation.selection_set)
                                   if not node.name.value.startswith("__"))
    return _requested(walk, root, operation.selection_set)


def actual_cost(schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode,
                data: Any) -> int:
    if data is None:
        return 0
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for value in data.values() if value is not None)
    if schema.query_type is None:
        return 0
    return _actual(_walk(schema, document, operation, None), schema.query_type,
                   operation.selection_set, data)


class LeakyBucket:
    """Shopify's bucket: ``maximum`` points, refilled at ``restore_rate`` points per second."""

    def __init__(self, maximum: float = 1000.0, restore_rate: float = 50.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum, self.restore_rate, self._clock = float(maximum), float(restore_rate), clock
        self._available, self._at = self.maximum, clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.maximum,
                              self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def try_take(self, cost: float) -> bool:
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(points, 0.0))

    def status(self) -> dict[str, float | int]:
        with self._lock:
            self._refill()
            return {"maximumAvailable": self.maximum,
                    "currentlyAvailable": int(self._available),
                    "restoreRate": self.restore_rate}
