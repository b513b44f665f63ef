-- Access control: API keys for partner apps and the log of every read of personal data by staff.

CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    prefix        text NOT NULL UNIQUE CHECK (prefix ~ '^[A-Za-z0-9]{8}$'),
    -- SHA-256 of the whole key; the key itself is shown once, at creation, and never stored.
    key_hash      bytea NOT NULL CHECK (length(key_hash) = 32),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN (
                      'OPD_OFFICER', 'OPERATOR', 'SUPERVISOR', 'PARTNER', 'ADMIN')),
    opd_id        bigint REFERENCES opds (id),
    region_code   text REFERENCES regions (code),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CHECK (role <> 'OPD_OFFICER' OR opd_id IS NOT NULL)
);

-- Append-only, like the event log: who read whose personal data, when, and from where.
CREATE TABLE personal_data_access (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  bigint NOT NULL REFERENCES complaints (id),
    subject       text NOT NULL,
    role          text NOT NULL,
    opd_id        bigint REFERENCES opds (id),
    field         text NOT NULL,
    address       text NOT NULL DEFAULT '',
    accessed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_data_access_time ON personal_data_access (accessed_at DESC, id DESC);
CREATE INDEX personal_data_access_complaint ON personal_data_access (complaint_id, id);
CREATE INDEX personal_data_access_subject ON personal_data_access (subject, id);

CREATE TRIGGER personal_data_access_no_update BEFORE UPDATE OR DELETE ON personal_data_access
    FOR EACH ROW EXECUTE FUNCTION complaint_events_append_only();
