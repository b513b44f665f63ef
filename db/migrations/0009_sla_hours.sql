-- Hours from assignment to the first follow-up and to the resolution, stored with the row:
-- the performance percentiles sort these, and computing them per row on every report was a
-- third of a 90-day leaderboard's time on a million complaints (BENCHMARKS.md). The covering
-- indexes of 0006 carry them instead of the resolution time.
ALTER TABLE complaints
    ADD COLUMN response_hours float8
        GENERATED ALWAYS AS (date_part('epoch', first_response_at - assigned_at) / 3600) STORED,
    ADD COLUMN resolution_hours float8
        GENERATED ALWAYS AS (date_part('epoch', resolved_at - assigned_at) / 3600) STORED;

DROP INDEX complaints_opd_assigned_figures;
CREATE INDEX complaints_opd_assigned_figures ON complaints (opd_id, assigned_at)
    INCLUDE (first_response_at, response_due_at, response_hours, resolution_hours, rating)
    WHERE assigned_at IS NOT NULL;
DROP INDEX complaints_region_assigned_figures;
CREATE INDEX complaints_region_assigned_figures ON complaints (region_code, assigned_at)
    INCLUDE (first_response_at, response_due_at, response_hours, resolution_hours, rating)
    WHERE assigned_at IS NOT NULL;
