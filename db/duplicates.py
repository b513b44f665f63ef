"""SQL for duplicate complaints: the likely duplicates of a complaint (the migration's
`kilas_duplicate_candidates`, shared with the compiled read path), and the complaints merged
into an original."""

from dataclasses import dataclass

from kilas.db.complaints import COMPLAINT_COLUMNS
from kilas.db.pool import Connection
from kilas.db.rows import ComplaintRow, Row


@dataclass(frozen=True)
class Search:
    """How alike and how near a complaint must be to be a likely duplicate (the settings)."""

    window_hours: float
    distance_km: float
    min_similarity: float


@dataclass(frozen=True, slots=True)
class CandidateRow(Row):
    complaint_id: int
    score: float


@dataclass(frozen=True, slots=True)
class CandidatePageRow(CandidateRow):
    """A candidate of the `page`th (1-based) key of `candidates_of`."""

    page: int


async def candidates(
    conn: Connection, complaint_id: int, search: Search, limit: int
) -> list[CandidateRow]:
    """The complaint's likely duplicates, best first."""
    return CandidateRow.from_records(
        await conn.fetch(
            "SELECT complaint_id, score FROM kilas_duplicate_candidates($1, $2, $3, $4, $5)",
            complaint_id,
            search.window_hours,
            search.distance_km,
            search.min_similarity,
            limit,
        )
    )


async def candidates_of(
    conn: Connection, keys: list[tuple[int, int, Search]]
) -> list[CandidatePageRow]:
    """For each (complaint id, limit, search), its likely duplicates, by the key's position."""
    return CandidatePageRow.from_records(
        await conn.fetch(
            """
            SELECT d.complaint_id, d.score, k.page
            FROM unnest($1::bigint[], $2::int[], $3::float8[], $4::float8[], $5::float8[])
                WITH ORDINALITY AS k (id, max_count, window_hours, distance_km, min_similarity,
                    page)
            CROSS JOIN LATERAL kilas_duplicate_candidates(
                k.id, k.window_hours, k.distance_km, k.min_similarity, k.max_count) d
            """,
            [key[0] for key in keys],
            [key[1] for key in keys],
            [key[2].window_hours for key in keys],
            [key[2].distance_km for key in keys],
            [key[2].min_similarity for key in keys],
        )
    )


async def followers(conn: Connection, original_id: int) -> list[ComplaintRow]:
    """The complaints merged into (or rejected as duplicates of) `original_id`, locked for this
    transaction, oldest first."""
    return ComplaintRow.from_records(
        await conn.fetch(
            f"""
            SELECT {COMPLAINT_COLUMNS} FROM complaints
            WHERE duplicate_of_id = $1 AND status = 'REJECTED'
            ORDER BY id FOR UPDATE
            """,
            original_id,
        )
    )
