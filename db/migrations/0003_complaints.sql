-- Complaints (tickets) and their append-only event log.

CREATE TABLE complaints (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tracking_number     text NOT NULL UNIQUE,
    channel             text NOT NULL CHECK (channel IN (
                            'X', 'INSTAGRAM', 'FACEBOOK', 'WHATSAPP', 'SMS', 'WEB', 'APP',
                            'HOTLINE', 'WALK_IN', 'NATIONAL')),
    external_ref        text CHECK (length(external_ref) BETWEEN 1 AND 200),
    reporter_name       text,
    reporter_contact    text,
    reporter_handle     text,
    anonymous           boolean NOT NULL DEFAULT false,
    confidential        boolean NOT NULL DEFAULT false,
    text                text NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    category_code       text REFERENCES categories (code),
    region_code         text NOT NULL REFERENCES regions (code),
    lat                 double precision CHECK (lat BETWEEN -90 AND 90),
    lon                 double precision CHECK (lon BETWEEN -180 AND 180),
    media_urls          text[] NOT NULL DEFAULT '{}',
    status              text NOT NULL DEFAULT 'RECEIVED' CHECK (status IN (
                            'RECEIVED', 'ASSIGNED', 'IN_PROGRESS', 'RESOLVED', 'CLOSED', 'REJECTED')),
    opd_id              bigint REFERENCES opds (id),
    sla_policy_id       bigint REFERENCES sla_policies (id),
    assigned_at         timestamptz,
    response_due_at     timestamptz,
    resolution_due_at   timestamptz,
    first_response_at   timestamptz,
    resolved_at         timestamptz,
    closed_at           timestamptz,
    rating              smallint CHECK (rating BETWEEN 1 AND 5),
    rating_comment      text,
    rejection_reason    text CHECK (rejection_reason IN (
                            'SPAM', 'INCOMPLETE', 'NOT_OUR_AUTHORITY', 'DUPLICATE')),
    duplicate_of_id     bigint REFERENCES complaints (id),
    work_item_id        bigint,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    search              tsvector GENERATED ALWAYS AS (to_tsvector('indonesian', text)) STORED,
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK (duplicate_of_id IS NULL OR duplicate_of_id <> id),
    CHECK (status = 'RECEIVED' OR status = 'REJECTED' OR opd_id IS NOT NULL)
);
-- Intake is idempotent: one complaint per (channel, external reference).
CREATE UNIQUE INDEX complaints_channel_external_ref ON complaints (channel, external_ref)
    WHERE external_ref IS NOT NULL;
CREATE INDEX complaints_created ON complaints (created_at DESC, id DESC);
CREATE INDEX complaints_updated ON complaints (updated_at DESC, id DESC);
CREATE INDEX complaints_status ON complaints (status, created_at DESC, id DESC);
CREATE INDEX complaints_opd_status ON complaints (opd_id, status);
CREATE INDEX complaints_region ON complaints (region_code, created_at DESC);
CREATE INDEX complaints_category ON complaints (category_code, created_at DESC);
CREATE INDEX complaints_search ON complaints USING gin (search);
CREATE INDEX complaints_text_trgm ON complaints USING gin (text gin_trgm_ops);

-- The append-only log. Its id is the subscription cursor: writers take a transaction-level
-- advisory lock before inserting, so ids become visible in commit order and a reader that has
-- seen event N will never later find an event below N.
CREATE TABLE complaint_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id    bigint NOT NULL REFERENCES complaints (id),
    type            text NOT NULL,
    from_status     text,
    to_status       text NOT NULL,
    -- Where the complaint stood after the event, so subscriptions filter without a join.
    opd_id          bigint REFERENCES opds (id),
    from_opd_id     bigint REFERENCES opds (id),
    region_code     text NOT NULL REFERENCES regions (code),
    category_code   text REFERENCES categories (code),
    actor           text NOT NULL,
    note            text,
    data            jsonb NOT NULL DEFAULT '{}',
    version         integer NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);
CREATE INDEX complaint_events_opd ON complaint_events (opd_id, id);

CREATE FUNCTION complaint_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER complaint_events_no_update BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION complaint_events_append_only();
CREATE TRIGGER complaint_events_no_truncate BEFORE TRUNCATE ON complaint_events
    FOR EACH STATEMENT EXECUTE FUNCTION complaint_events_append_only();
