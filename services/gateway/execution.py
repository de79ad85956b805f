"""The gateway's executor: graphql-core's, with a short path for plain leaf fields.

Most of a read is leaf fields that only read an attribute (`title`, `status`...). For each of
them graphql-core builds a resolve info and a path, looks for arguments, checks for awaitables
and walks the non-null wrapper; here such a field reads the attribute and coerces the scalar
directly, and an object whose selected fields are all plain leaves is built in one loop.
Anything unusual (a null where none is allowed, a missing attribute, a value the scalar
refuses) goes the standard way, so errors and their paths are exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary, WeakMethod

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    GraphQLString,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# What `read` answers when a field needs graphql-core's standard path.
STANDARD: Any = object()


class PlainLeaf(NamedTuple):
    """How to read and coerce one plain leaf field."""

    attribute: str
    leaf: GraphQLLeafType
    non_null: bool
    # The Python type whose values the scalar's coercion returns unchanged, if there is one.
    unchanged: type | None

    def read(self, source: Any) -> Any:
        """The field's value, or STANDARD when only the standard path can answer it."""
        try:
            value = getattr(source, self.attribute)
            if type(value) is self.unchanged:
                return value
            if value is None:
                return STANDARD if self.non_null else None
            coerced = self.leaf.coerce_output_value(value)
        except Exception:  # the standard path reports it, with the field's path
            return STANDARD
        return STANDARD if coerced is None or coerced is Undefined else coerced


# graphql-core's own scalars give back values of these types as they are.
_UNCHANGED = ((GraphQLString, str), (GraphQLID, str), (GraphQLBoolean, bool))


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    """The short path for `field`, if it only reads an attribute and returns a scalar or enum."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if definition.default_resolver is not getattr or field.args:
        return None
    kind, non_null = field.type, False
    if isinstance(kind, GraphQLNonNull):
        kind, non_null = kind.of_type, True
    if not is_leaf_type(kind):
        return None
    unchanged = next((kept for scalar, kept in _UNCHANGED if kind is scalar), None)
    return PlainLeaf(definition.python_name, kind, non_null, unchanged)


# Per schema: (type name, field name) -> the short path, or None for the standard one.
_plans: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainLeaf | None]]
_plans = WeakKeyDictionary()

Leaves = list[tuple[str, PlainLeaf]]


class AccordExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per selection (alive for this operation): its fields, if all are plain leaves.
        self._selections: dict[int, tuple[GroupedFieldSet, Leaves | None]] = {}
        manager = self.middleware_manager
        wrapped = manager is not None and bool(manager.middlewares)
        # None when a schema extension wraps every resolver: every field goes the standard way.
        self._plans = None if wrapped else _plans.setdefault(self.schema, {})
        # graphql-core's helpers are this executor's own bound methods: a cycle that kept the
        # whole operation (context, loaders, every row read) alive until the cyclic garbage
        # collector came by, which then cost a good part of each request. Referenced weakly,
        # the operation is freed as soon as it is answered.
        track = WeakMethod(self.track_async_work)

        def track_async_work(values: Sequence[Any]) -> None:
            method = track()
            if method is not None:
                method(values)

        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=lambda values: gather_with_cancel(*values), track=track_async_work
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        leaves = self._plain_selection(parent_type, grouped_field_set)
        if leaves is not None:
            results: dict[str, Any] = {}
            for response_name, plan in leaves:
                value = plan.read(source_value)
                if value is STANDARD:
                    break
                results[response_name] = value
            else:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects whose selected fields are all plain leaves, built in one loop."""
        rows = self._plain_rows(return_type.of_type, field_details_list, result, position_context)
        if rows is not None:
            return rows
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain_rows(
        self,
        item_type: Any,
        field_details_list: FieldDetailsList,
        items: Any,
        position_context: Any,
    ) -> list[dict[str, Any]] | None:
        kind = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not isinstance(kind, GraphQLObjectType) or kind.is_type_of or position_context:
            return None
        if not isinstance(items, list):
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(kind, field_details_list)
        leaves = None if new_defer_usages else self._plain_selection(kind, grouped_field_set)
        if leaves is None:
            return None
        rows: list[dict[str, Any]] = []
        for item in items:
            row: dict[str, Any] = {}
            for response_name, plan in leaves:
                value = STANDARD if item is None else plan.read(item)
                if value is STANDARD:
                    return None
                row[response_name] = value
            rows.append(row)
        return rows

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = self._plain_leaf(parent_type, field_details_list[0].node.name.value)
        if plan is not None:
            value = plan.read(source)
            if value is not STANDARD:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _plain_selection(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> Leaves | None:
        known = self._selections.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plans = [
            (response_name, self._plain_leaf(parent_type, details[0].node.name.value))
            for response_name, details in grouped_field_set.items()
        ]
        leaves = [(response_name, plan) for response_name, plan in plans if plan is not None]
        chosen = leaves if len(leaves) == len(plans) else None
        self._selections[id(grouped_field_set)] = (grouped_field_set, chosen)
        return chosen

    def _plain_leaf(self, parent_type: GraphQLObjectType, name: str) -> PlainLeaf | None:
        plans = self._plans
        if plans is None:
            return None  # a schema extension wraps every resolver: leave them all to it
        key = (parent_type.name, name)
        if key not in plans:
            field = self.schema.get_field(parent_type, name)
            plans[key] = None if field is None else plain_leaf(field)
        return plans[key]
