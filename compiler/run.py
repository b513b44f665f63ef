"""The compiled read path inside strawberry's own pipeline: a schema extension that, once the
operation has been parsed, validated and costed by the other extensions, answers its root fields
from their compiled statements and lets strawberry execute only those the compiler does not
cover (logged, and counted in `FALLBACKS`). The data it returns holds each compiled root
field's JSON text as PostgreSQL built it; `response_text` writes it out without decoding."""

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult, GraphQLError, get_operation_ast
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from kilas.compiler.plan import (
    OperationPlan,
    PlanCache,
    RootPlan,
    _shape_variables,
    compile_operation,
)
from kilas.compiler.readback import ReadBackPlan, compile_read_back, splice
from kilas.compiler.roots import node_type_of, presence
from kilas.compiler.sql import ERROR_KEY, Bind, ErrorTemplate
from kilas.compiler.variables import Coercion
from kilas.db.pool import fair_turn
from kilas.schema.extensions import find_invalid_text

log = logging.getLogger("kilas.compiler")

# Root fields answered by strawberry instead, by reason; and how many were compiled. FAILED
# counts compiled answers that failed as they ran (a statement's error): the answer is then
# strawberry's, right but slow, so tests hold it at zero.
FAILED = "statement failed"
FALLBACKS: Counter[str] = Counter()
COMPILED: Counter[str] = Counter()

_SHAPES: dict[str, tuple[tuple[str, str], ...]] = {}
_MARKER = f'"{ERROR_KEY}"'


class Raw(str):
    """JSON text, written into a response as it is."""


class RawData(dict[str, Any]):
    """A response's `data`: each value is Python data or `Raw` JSON text."""


def encode_data(data: Any) -> str:
    if not isinstance(data, RawData):
        return json.dumps(data)
    return _encode(data)


def _encode(value: Any) -> str:
    """JSON of Python data holding `Raw` texts anywhere (a mutation's payload holds them
    inside)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return json.dumps(value)


def response_text(result: Any) -> str:
    """The JSON body the HTTP view sends for an execution result."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return encode_response(body)


def encode_response(body: dict[str, Any]) -> str:
    """A GraphQL response as JSON, its `data` written by `encode_data`."""
    parts = []
    for key, value in body.items():
        encoded = encode_data(value) if key == "data" else json.dumps(value)
        parts.append(f"{json.dumps(key)}:{encoded}")
    return "{" + ",".join(parts) + "}"


def _shape(names: tuple[tuple[str, str], ...], variables: dict[str, Any] | None) -> Hashable:
    """The values of the variables that decide a plan (plan.py `_ShapeVariables`)."""
    values = variables or {}
    shape: list[Hashable] = []
    for name, how in names:
        value = values.get(name)
        if how == "node":
            try:
                value = node_type_of(value)
            except Exception:  # no Kilas id: a shape of its own (a fallback)
                value = "?"
        elif how == "given":
            value = presence(value)
        shape.append((name, repr(value)))
    return tuple(shape)


class Refused(Exception):
    """An argument the compiled path will not bind (a page too large, a cursor of another list,
    or anything unexpected): strawberry's execution reports it, at its path."""


def _params(plan: OperationPlan, bind: Bind) -> list[list[Any]]:
    try:
        for root in plan.compiled:
            for check in root.checks:
                check(bind)
        return [[getter(bind) for getter in root.getters] for root in plan.compiled]
    except Exception as error:
        raise Refused(str(error)) from error


async def _run(
    plan: OperationPlan, bind: Bind, pool: Any
) -> tuple[dict[str, Raw | Any], list[GraphQLError]]:
    """Each compiled root field's JSON, from its statement, on one pooled connection; raises
    `Refused` (before any statement runs) when an argument is refused."""
    params = _params(plan, bind)
    texts: dict[str, Raw | Any] = {}
    errors: list[GraphQLError] = []
    async with fair_turn(pool), pool.acquire() as conn:
        for root, values in zip(plan.compiled, params, strict=True):
            text = await conn.fetchval(root.sql, *values)
            texts[root.key] = _answer(root, text, errors)
    COMPILED["root fields"] += len(plan.compiled)
    return texts, errors


class Caches:
    """One schema's plans. Kept per schema, as each schema has its own limits: a plan admitted
    under one schema's guards says nothing of another's."""

    def __init__(self) -> None:
        self.plans = PlanCache()
        self.read_backs = PlanCache()
        # Plans strawberry's pipeline ran in full once, every guard passing: their keys hold all
        # the guards read (the document, the operation, the `first` values the cost estimate
        # reads), so the next request with such a key goes straight to its statements.
        self.admitted: dict[Hashable, Direct] = {}

    def admit(self, key: Hashable, plan: OperationPlan, schema: Any) -> None:
        if key in self.admitted:
            return
        if len(self.admitted) > 4096:
            self.admitted.clear()
        self.admitted[key] = Direct(plan, Coercion(schema, plan.variable_definitions))


@dataclass(frozen=True)
class Direct:
    """An admitted plan, and how its variables are coerced."""

    plan: OperationPlan
    variables: Coercion


def caches_of(schema: Any) -> Caches:
    found: Caches | None = getattr(schema, "_kilas_compiled", None)
    if found is None:
        found = Caches()
        schema._kilas_compiled = found
    return found


def _key(query: str, operation_name: str | None, role: Any, shape: Hashable) -> Hashable:
    return (query, operation_name, role, shape)


def admitted_plan(
    schema: Any,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    role: Any,
) -> Direct | None:
    """The plan strawberry's pipeline admitted for this request's key, if it did."""
    if not isinstance(operation_name, str | None):
        return None  # refused down the pipeline, as a request error
    names = _SHAPES.get(query)
    if names is None:
        return None
    key = _key(query, operation_name, role, _shape(names, variables))
    return caches_of(schema).admitted.get(key)


async def answer_admitted(
    direct: Direct,
    variables: dict[str, Any] | None,
    caller: Any,
    now: Any,
    settings: Any,
    pool: Any,
) -> ExecutionResult | None:
    """The answer to a request of an admitted plan, with the variables checked as the guards
    check them; None when it must go through strawberry's pipeline."""
    if find_invalid_text(None, variables or {}) is not None:
        return None
    coerced = direct.variables(variables or {})
    if isinstance(coerced, list):
        return None
    bind = Bind(coerced, caller, now, settings)
    try:
        texts, errors = await _run(direct.plan, bind, pool)
    except Refused:
        return None
    except Exception:
        # A database that failed mid-answer: the pipeline answers instead, and reports a fault
        # as every other path does (masked in production), never a bare HTTP 500. The failed
        # statement wrote nothing: it was its own transaction.
        FALLBACKS[FAILED] += 1
        log.warning("a compiled answer failed; strawberry's pipeline answers", exc_info=True)
        return None
    COMPILED["answered directly"] += 1
    return ExecutionResult(data=RawData(texts), errors=errors or None)


async def answer_directly(
    schema: Any,
    query: str,
    variables: dict[str, Any] | None,
    context: Any,
    operation_name: str | None,
) -> ExecutionResult | None:
    """`answer_admitted` for a request strawberry's schema is asked to execute."""
    caller = context.caller
    direct = admitted_plan(schema, query, variables, operation_name, caller.role)
    if direct is None:
        return None
    return await answer_admitted(
        direct, variables, caller, context.clock.now(), context.settings, context.pool
    )


def _shape_names(query: str, document: Any) -> tuple[tuple[str, str], ...]:
    names = _SHAPES.get(query)
    if names is None:
        names = _shape_variables(document)
        if len(_SHAPES) > 4096:
            _SHAPES.clear()
        _SHAPES[query] = names
    return names


def _bindable(plan: ReadBackPlan, variables: Any, context: Any, now: Any) -> bool:
    """Whether every argument of the read-back statements binds: checked before the mutation
    runs, as a refused one could not be reported by strawberry afterwards."""
    bind = Bind(variables, context.caller, now, context.settings, {"row": 0})
    try:
        for variants in plan.objects.values():
            for root in variants.values():
                for getter in root.getters:
                    getter(bind)
    except Exception:  # strawberry runs the whole payload and reports it
        return False
    return True


class CompiledReads(SchemaExtension):
    """Answers queries through the compiler when the request's context asks for it
    (`Context.compiled_reads`, set by the HTTP view from KILAS_COMPILED_READS)."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        if not getattr(context, "compiled_reads", False) or ec.graphql_document is None:
            yield
            return
        if ec.operation_type is OperationType.MUTATION:
            async for _ in self._read_back(ec):
                yield
            return
        if ec.operation_type is not OperationType.QUERY:
            yield
            return
        found = self._plan(ec)
        if found is None:
            yield
            return
        plan, bind, key = found
        try:
            texts, errors = await _run(plan, bind, context.pool)
        except Refused as error:
            # strawberry reports the refused argument, at its path.
            self._fell_back("arguments", error)
            yield
            return
        except Exception:
            # The database failed mid-answer: strawberry's execution answers, and reports what
            # fails as every field does (coded, masked in production).
            FALLBACKS[FAILED] += 1
            log.warning("a compiled answer failed; strawberry's execution answers", exc_info=True)
            yield
            return
        if plan.fallback_document is None:
            caches_of(ec.schema).admit(key, plan, ec.schema._schema)
            ec.result = ExecutionResult(data=RawData(texts), errors=errors or None)
            yield
            return
        for fallback in plan.fallbacks:
            FALLBACKS[fallback.reason] += 1
            log.debug("root field %s falls back: %s", fallback.key, fallback.reason)
        ec.graphql_document = plan.fallback_document
        yield
        result = ec.result
        rest = getattr(result, "data", None)
        if result is None or rest is None:
            return
        data = RawData()
        for entry in plan.roots:
            data[entry.key] = (
                texts[entry.key] if isinstance(entry, RootPlan) else rest.get(entry.key)
            )
        result.data = data
        result.errors = (errors + list(result.errors or ())) or None

    def _plan(self, ec: Any) -> tuple[OperationPlan, Bind, Hashable] | None:
        context = ec.context
        schema = ec.schema._schema
        role = context.caller.role
        coerced = _coerced(ec)
        if coerced is None:
            return None
        query = ec.query or ""
        names = _shape_names(query, ec.graphql_document)
        key = _key(query, _asked_for(ec), role, _shape(names, ec.variables))
        plan = caches_of(ec.schema).plans.get_or_compile(
            key,
            lambda: compile_operation(
                schema,
                ec.schema,
                ec.graphql_document,
                ec.operation_name,
                coerced,
                role,
                context.settings,
            ),
        )
        if isinstance(plan, str):
            self._fell_back(plan, None)
            return None
        if not plan.compiled:
            for fallback in plan.fallbacks:
                FALLBACKS[fallback.reason] += 1
            log.debug("operation falls back: %s", "; ".join(f.reason for f in plan.fallbacks))
            return None
        return plan, Bind(coerced, context.caller, context.clock.now(), context.settings), key

    async def _read_back(self, ec: Any) -> AsyncIterator[None]:
        """A mutation: strawberry runs it; the payload's objects are read back compiled."""
        context = ec.context
        schema = ec.schema._schema
        role = context.caller.role
        coerced = _coerced(ec)
        if coerced is None:
            yield
            return
        query = ec.query or ""
        shape = _shape(_shape_names(query, ec.graphql_document), ec.variables)
        key = ("mutation", query, _asked_for(ec), context.caller.role, shape)
        plan = caches_of(ec.schema).read_backs.get_or_compile(
            key,
            lambda: compile_read_back(
                schema, ec.schema, ec.graphql_document, ec.operation_name, coerced, role
            ),
        )
        now = context.clock.now()
        if not isinstance(plan, ReadBackPlan) or not _bindable(plan, coerced, context, now):
            yield
            return
        context.read_back = {}
        ec.graphql_document = plan.document
        yield
        # Read as a query right after the mutation would: what it wrote is stamped with the
        # clock's time while it ran (a head's term starts then), later than `now` above.
        now = context.clock.now()
        found: dict[tuple[Any, ...], tuple[int, bool]] = context.read_back
        context.read_back = None
        result = ec.result
        data = getattr(result, "data", None)
        if result is None or not isinstance(data, dict) or not found:
            return
        errors: list[GraphQLError] = []
        for path, (row_id, presented) in found.items():
            variants = plan.objects.get((str(path[0]), str(path[1])))
            if variants is None or len(path) != 2:
                continue
            root = variants[presented]
            bind = Bind(coerced, context.caller, now, context.settings, {"row": row_id})
            try:
                values = [getter(bind) for getter in root.getters]
                async with context.pool.acquire() as conn:
                    text = await conn.fetchval(root.sql, *values)
            except Exception as failure:
                # The mutation is done; only reading its object back failed: the object is
                # null, with an internal error at its path (masked in production).
                FALLBACKS[FAILED] += 1
                log.warning("reading back %s failed", list(path), exc_info=True)
                errors.append(_internal(failure, path))
                splice(data, path, None)
                continue
            splice(data, path, _answer(root, text, errors, list(path)))
            COMPILED["payload objects"] += 1
        result.data = RawData(data)
        result.errors = (list(result.errors or ()) + errors) or None

    @staticmethod
    def _fell_back(reason: str, error: Exception | None) -> None:
        FALLBACKS[reason] += 1
        log.debug("operation falls back: %s%s", reason, f" ({error})" if error else "")


def _internal(failure: Exception, path: tuple[Any, ...]) -> GraphQLError:
    error = GraphQLError(str(failure), path=list(path), original_error=failure)
    error.extensions = {"code": "INTERNAL_SERVER_ERROR"}
    return error


def _asked_for(ec: Any) -> str | None:
    """The operation name the request gave (strawberry's `operation_name` falls back to the
    document's first operation's): what `answer_directly` is asked with."""
    name: str | None = getattr(ec, "_provided_operation_name", ec.operation_name)
    return name


def _coerced(ec: Any) -> VariableValues | None:
    """The operation's variables as graphql-core coerces them; None when there is no such
    operation or they do not coerce (strawberry reports that)."""
    operation = get_operation_ast(ec.graphql_document, ec.operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(
        ec.schema._schema, operation.variable_definitions or (), ec.variables or {}
    )
    return None if isinstance(coerced, list) else coerced


def _answer(
    root: RootPlan,
    text: str | None,
    errors: list[GraphQLError],
    path: list[str | int] | None = None,
) -> Raw | Any:
    """The root field's JSON text; when the statement reported errors in it (markers in place
    of refused values), the value with those nulled and the errors added, at their paths."""
    if text is None:
        return Raw("null")
    if _MARKER not in text:
        return Raw(text)
    value = json.loads(text)
    return unmark(value, path or [root.key], root.errors, errors)


def unmark(
    value: Any, path: list[str | int], templates: tuple[ErrorTemplate, ...], errors: list[Any]
) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and ERROR_KEY in value:
            template = templates[value[ERROR_KEY]]
            errors.append(
                GraphQLError(
                    template.error.message,
                    nodes=list(template.nodes),
                    path=list(path),
                    original_error=template.error,
                )
            )
            return None
        return {k: unmark(v, [*path, k], templates, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [unmark(v, [*path, i], templates, errors) for i, v in enumerate(value)]
    return value
