-- Covering indexes for the performance queries (db/performance.py): each OPD's and each region's
-- complaints assigned in a period, and its breach and escalation events, are one index-only
-- range, already in unit order (BENCHMARKS.md: the leaderboard over 30 days on a million
-- complaints went from 290 ms to under 100). They cost no HOT updates: every update of a
-- complaint already changes the indexed `updated_at`.
CREATE INDEX complaints_opd_assigned_figures ON complaints (opd_id, assigned_at)
    INCLUDE (first_response_at, response_due_at, resolved_at, rating)
    WHERE assigned_at IS NOT NULL;
DROP INDEX complaints_opd_assigned;
CREATE INDEX complaints_region_assigned_figures ON complaints (region_code, assigned_at)
    INCLUDE (first_response_at, response_due_at, resolved_at, rating)
    WHERE assigned_at IS NOT NULL;
-- Only the period scan of the old performance SQL used it.
DROP INDEX complaints_assigned;

CREATE INDEX complaint_events_opd_sla ON complaint_events (opd_id, occurred_at) INCLUDE (type)
    WHERE type IN ('SLA_BREACHED', 'ESCALATED');
CREATE INDEX complaint_events_region_sla ON complaint_events (region_code, occurred_at)
    INCLUDE (type) WHERE type IN ('SLA_BREACHED', 'ESCALATED');
