"""`Complaint.possibleDuplicates` as SQL: the migration's `kilas_duplicate_candidates`, the same
function db/duplicates.py calls for strawberry's path, under the server's search settings."""

from kilas.compiler.objects import Ctx, FieldFn, Row, Sel, column
from kilas.compiler.sql import Bind, json_list
from kilas.schema.duplicates import check_first


def possible_duplicates(ctx: Ctx, row: Row, sel: Sel) -> str:
    args = ctx.args(sel)

    def first(b: Bind) -> int:
        value: int = args(b).get("first", 5)
        check_first(value)
        return value

    st = ctx.st
    limit = st.param(first, "int")
    window = st.shared("dup_window", lambda b: b.settings.duplicate_window_hours, "float8")
    km = st.shared("dup_km", lambda b: b.settings.duplicate_distance_km, "float8")
    least = st.shared("dup_similarity", lambda b: b.settings.duplicate_min_similarity, "float8")
    d = st.alias("d")
    source = (
        f"kilas_duplicate_candidates({row.alias}.id, {window}, {km}, {least}, {limit}) "
        f"WITH ORDINALITY AS {d} (complaint_id, score, n)"
    )
    return json_list(ctx.object("DuplicateCandidate", Row(d), sel), source, f"{d}.n")


def candidate_complaint(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`DuplicateCandidate.complaint` as `schema.complaints.visible_complaint` gives it."""
    c = ctx.st.alias("c")
    built = ctx.object("Complaint", Row(c), sel)
    where = f"{c}.id = {row.alias}.complaint_id AND {ctx.st.visible(c)}"
    return f"(SELECT {built} FROM complaints {c} WHERE {where})"


DUPLICATE_CANDIDATE: dict[str, FieldFn] = {
    "score": column("score"),
    "complaint": candidate_complaint,
}
