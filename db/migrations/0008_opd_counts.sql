-- Counts per OPD, kept like complaint_counts (0005), for the dashboard of one unit's office: a
-- GROUP BY over the ~200,000 complaints a big OPD holds in a year took ~580 ms on a million
-- complaints (BENCHMARKS.md); these rows take a millisecond. Complaints no OPD holds yet are
-- not counted here.
CREATE TABLE complaint_counts_by_opd (
    opd_id       bigint NOT NULL REFERENCES opds (id),
    status       text NOT NULL,
    region_code  text NOT NULL,
    channel      text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (opd_id, status, region_code, channel)
);

CREATE FUNCTION complaint_counts_by_opd_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.opd_id IS NOT DISTINCT FROM OLD.opd_id
            AND NEW.status = OLD.status AND NEW.region_code = OLD.region_code
            AND NEW.channel = OLD.channel THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.opd_id IS NOT NULL THEN
        UPDATE complaint_counts_by_opd SET n = n - 1
        WHERE opd_id = OLD.opd_id AND status = OLD.status AND region_code = OLD.region_code
            AND channel = OLD.channel;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.opd_id IS NOT NULL THEN
        INSERT INTO complaint_counts_by_opd (opd_id, status, region_code, channel, n)
        VALUES (NEW.opd_id, NEW.status, NEW.region_code, NEW.channel, 1)
        ON CONFLICT (opd_id, status, region_code, channel)
        DO UPDATE SET n = complaint_counts_by_opd.n + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER complaint_counts_by_opd_track
    AFTER INSERT OR UPDATE OF opd_id, status, region_code, channel OR DELETE ON complaints
    FOR EACH ROW EXECUTE FUNCTION complaint_counts_by_opd_track();

INSERT INTO complaint_counts_by_opd (opd_id, status, region_code, channel, n)
SELECT opd_id, status, region_code, channel, count(*) FROM complaints
WHERE opd_id IS NOT NULL GROUP BY 1, 2, 3, 4;
