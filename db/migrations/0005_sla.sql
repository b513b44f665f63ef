-- SLA engine: per-clock marks written once by the sweeper, escalation, versioned per-category
-- resolution hours, and the counters the live dashboard reads.

ALTER TABLE complaints
    ADD COLUMN response_at_risk_at     timestamptz,
    ADD COLUMN response_breached_at    timestamptz,
    ADD COLUMN resolution_at_risk_at   timestamptz,
    ADD COLUMN resolution_breached_at  timestamptz,
    -- 0 none, 1 the OPD head, 2 the command center / Inspektorat, 3 the governor's office.
    ADD COLUMN escalation_level        smallint NOT NULL DEFAULT 0
                                       CHECK (escalation_level BETWEEN 0 AND 3),
    ADD COLUMN escalated_at            timestamptz;

-- What the sweeper looks for; each index holds only the complaints a clock is still running on.
CREATE INDEX complaints_response_pending ON complaints (response_due_at)
    WHERE status = 'ASSIGNED' AND first_response_at IS NULL;
CREATE INDEX complaints_resolution_pending ON complaints (resolution_due_at)
    WHERE status IN ('ASSIGNED', 'IN_PROGRESS');
CREATE INDEX complaints_resolved_quiet ON complaints (resolved_at) WHERE status = 'RESOLVED';
CREATE INDEX complaints_escalation_pending ON complaints (escalated_at)
    WHERE escalation_level BETWEEN 1 AND 2 AND status IN ('ASSIGNED', 'IN_PROGRESS');
-- Performance over a period is computed over the complaints assigned in it.
CREATE INDEX complaints_opd_assigned ON complaints (opd_id, assigned_at) WHERE assigned_at IS NOT NULL;
CREATE INDEX complaints_assigned ON complaints (assigned_at) WHERE assigned_at IS NOT NULL;
CREATE INDEX complaint_events_type_time ON complaint_events (type, occurred_at);

-- Resolution hours per category belong to a policy version, like the province default, so a
-- new version can change them without rewriting the deadlines of complaints already assigned.
CREATE TABLE sla_policy_category_hours (
    policy_id         bigint NOT NULL REFERENCES sla_policies (id),
    category_code     text NOT NULL REFERENCES categories (code),
    resolution_hours  integer NOT NULL CHECK (resolution_hours > 0),
    PRIMARY KEY (policy_id, category_code)
);
INSERT INTO sla_policy_category_hours (policy_id, category_code, resolution_hours)
SELECT p.id, c.code, CASE WHEN p.response_hours = 48 THEN 2 * c.resolution_hours
                          ELSE c.resolution_hours END
FROM sla_policies p CROSS JOIN categories c
WHERE c.resolution_hours IS NOT NULL;
ALTER TABLE categories DROP COLUMN resolution_hours;

-- Live counts by status, region and channel, kept by a trigger so that the dashboard reads a few
-- thousand rows instead of scanning every complaint. Event writers are already serialised by the
-- event-log lock, so these hot rows add no contention of their own.
CREATE TABLE complaint_counts (
    status       text NOT NULL,
    region_code  text NOT NULL,
    channel      text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (status, region_code, channel)
);

CREATE FUNCTION complaint_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.region_code = OLD.region_code
            AND NEW.channel = OLD.channel THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE complaint_counts SET n = n - 1
        WHERE status = OLD.status AND region_code = OLD.region_code AND channel = OLD.channel;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO complaint_counts (status, region_code, channel, n)
        VALUES (NEW.status, NEW.region_code, NEW.channel, 1)
        ON CONFLICT (status, region_code, channel) DO UPDATE SET n = complaint_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER complaint_counts_track
    AFTER INSERT OR UPDATE OF status, region_code, channel OR DELETE ON complaints
    FOR EACH ROW EXECUTE FUNCTION complaint_counts_track();

INSERT INTO complaint_counts (status, region_code, channel, n)
SELECT status, region_code, channel, count(*) FROM complaints GROUP BY 1, 2, 3;
