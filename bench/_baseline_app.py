"""The read path's baseline: a bare Starlette + asyncpg endpoint that answers each benchmark
query (by its operation name) with one hand-written SQL statement building the whole response
JSON in PostgreSQL, the practical limit of this stack. No GraphQL parsing, validation or
access layer: what it answers is what Kilas answers a public caller (only non-confidential
complaints), checked by bench/read_path.py before anything is timed.

    python bench/_baseline_app.py DATABASE_URL PORT
"""

import base64
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kilas.db.pool import QueryLogger, create_pool
from kilas.domain.sla import SlaRules

AT_RISK_SHARE = SlaRules().at_risk_share


def wib(column: str) -> str:
    """A timestamptz as Python's isoformat() of it in WIB: no fraction when it has none."""
    t = f"({column} AT TIME ZONE 'Asia/Jakarta')"
    return (
        f"(to_char({t}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', {t}) = {t}"
        f" THEN '' ELSE to_char({t}, '.US') END || '+07:00')"
    )


def global_id(type_name: str, column: str) -> str:
    """Relay's id as Kilas writes it: unpadded URL-safe base64 of "Type:key"."""
    encoded = f"encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64')"
    return f"rtrim(translate({encoded}, '+/', '-_'), '=')"


def sla_reading(clock: str, done: str) -> str:
    """`domain.sla.read_clock` in SQL; $share is the at-risk share."""
    due = f"c.{clock}_due_at"
    state = f"""CASE WHEN c.{done} IS NOT NULL
                     THEN CASE WHEN c.{done} <= {due} THEN 'MET' ELSE 'BREACHED' END
                     WHEN now() >= {due} THEN 'BREACHED'
                     WHEN {due} - now() <= ({due} - c.assigned_at) * $4::float8 THEN 'AT_RISK'
                     ELSE 'ON_TRACK' END"""
    remaining = f"trunc(extract(epoch FROM {due} - coalesce(c.{done}, now())))::bigint"
    return f"""CASE WHEN c.assigned_at IS NULL OR {due} IS NULL THEN NULL ELSE
        json_build_object('state', {state}, 'dueAt', {wib(due)}, 'remainingSeconds', {remaining})
        END"""


NEWEST = f"""
SELECT json_build_object('data', json_build_object('complaints', json_build_object('edges',
  coalesce((
    SELECT json_agg(json_build_object('node', json_build_object(
             'id', {global_id("Complaint", "c.id")}, 'status', c.status,
             'createdAt', {wib("c.created_at")}, 'text', c.text, 'channel', c.channel,
             'opd', o.json, 'region', r.json, 'category', k.json))
           ORDER BY c.created_at DESC, c.id DESC)
    FROM (SELECT * FROM complaints WHERE NOT confidential
          ORDER BY created_at DESC, id DESC LIMIT {{limit}}) c
    LEFT JOIN LATERAL (SELECT json_build_object('name', name, 'shortName', short_name) AS json
                       FROM opds WHERE id = c.opd_id) o ON true
    CROSS JOIN LATERAL (SELECT json_build_object('code', code, 'name', name) AS json
                        FROM regions WHERE code = c.region_code) r
    LEFT JOIN LATERAL (SELECT json_build_object('code', code, 'name', name) AS json
                       FROM categories WHERE code = c.category_code) k ON true
  ), '[]'))))::text
"""

OPD_PAGE = f"""
SELECT json_build_object('data', json_build_object(
  'opd', (SELECT json_build_object('name', o.name, 'openBacklog',
                   (SELECT count(*) FROM complaints
                    WHERE opd_id = o.id AND status IN ('ASSIGNED', 'IN_PROGRESS')))
          FROM opds o WHERE o.slug = $1),
  'complaints', json_build_object(
    'totalCount', (SELECT count(*) FROM complaints
                   WHERE opd_id = $2 AND status = any($3::text[]) AND NOT confidential),
    'edges', coalesce((
      SELECT json_agg(json_build_object('node', json_build_object(
               'id', {global_id("Complaint", "c.id")}, 'status', c.status, 'text', c.text,
               'sla', json_build_object(
                 'response', {sla_reading("response", "first_response_at")},
                 'resolution', {sla_reading("resolution", "resolved_at")},
                 'escalationLevel', c.escalation_level)))
             ORDER BY c.created_at DESC, c.id DESC)
      FROM (SELECT * FROM complaints
            WHERE opd_id = $2 AND status = any($3::text[]) AND NOT confidential
            ORDER BY created_at DESC, id DESC LIMIT 20) c
    ), '[]'))))::text
"""

PROGRAMME_WORK = f"""
SELECT json_build_object('data', json_build_object('programme', (
  SELECT json_build_object('name', p.name, 'budgetIdr', p.budget_idr::text, 'workItems',
    coalesce((
      SELECT json_agg(json_build_object(
               'name', w.name, 'progressPct', w.progress_pct::float8, 'status', w.status,
               'linkedComplaints', coalesce((
                 SELECT json_agg(json_build_object('id', {global_id("Complaint", "c.id")},
                                                   'status', c.status, 'text', c.text)
                                 ORDER BY c.id)
                 FROM complaints c WHERE c.work_item_id = w.id AND NOT c.confidential
               ), '[]'))
             ORDER BY w.id)
      FROM work_items w WHERE w.programme_id = p.id
    ), '[]'))
  FROM programmes p WHERE p.code = upper($1)
)))::text
"""


def _database_id(global_id: str) -> int:
    padded = global_id + "=" * (-len(global_id) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().partition(":")[2])


@dataclass(frozen=True)
class Statement:
    sql: str
    args: Callable[[dict[str, Any]], list[Any]]
    # Values written into the statement, not bound: the page size. A statement whose LIMIT is
    # a parameter is planned anew on every execution (PostgreSQL's generic plan cannot know
    # the page is small), which costs more than the query; Kilas's compiled statements carry it
    # the same way (compiler/roots.py).
    constants: Callable[[dict[str, Any]], dict[str, Any]] = lambda v: {}

    def text(self, variables: dict[str, Any]) -> str:
        sql = self.sql
        for name, value in self.constants(variables).items():
            sql = sql.replace("{" + name + "}", str(value))
        return sql


STATEMENTS = {
    "NewestComplaints": Statement(
        NEWEST, lambda v: [], lambda v: {"limit": int(v["first"]) if 0 < v["first"] <= 100 else 0}
    ),
    "OpdPage": Statement(
        OPD_PAGE,
        lambda v: [
            v["slug"].strip().lower(),
            _database_id(v["opdId"]),
            ["ASSIGNED", "IN_PROGRESS"],
            AT_RISK_SHARE,
        ],
    ),
    "ProgrammeWork": Statement(PROGRAMME_WORK, lambda v: [v["code"]]),
}


def create_baseline_app(
    database_url: str, *, pool_size: int = 10, query_logger: QueryLogger | None = None
) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool

        # Kilas's own pool (its settings, no round trip on release): the statements return text.
        pool = await create_pool(
            database_url, min_size=pool_size, max_size=pool_size, query_logger=query_logger
        )
        try:
            yield
        finally:
            await pool.close()

    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body())
        statement = STATEMENTS.get(body.get("operationName"))
        if statement is None:
            return JSONResponse({"errors": [{"message": "unknown operation"}]}, status_code=400)
        assert pool is not None
        variables = body.get("variables") or {}
        text = await pool.fetchval(statement.text(variables), *statement.args(variables))
        return Response(text, media_type="application/json")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        create_baseline_app(sys.argv[1]),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_level="warning",
    )
