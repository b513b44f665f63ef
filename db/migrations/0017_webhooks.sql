-- Outgoing webhooks (issue 14): a partner's endpoint receives every event of the log that its
-- API key may see and its filter matches, in cursor order, at least once, signed as the
-- Standard Webhooks specification says. Each endpoint keeps its own cursor; one instance at a
-- time delivers to it (a lease, renewed before every request and checked on every write).
CREATE TABLE webhook_endpoints (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The PARTNER key it delivers for: what that key may see is what the endpoint receives.
    api_key_id           bigint NOT NULL REFERENCES api_keys (id),
    url                  text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description          text CHECK (length(description) <= 500),
    -- The Standard Webhooks secret, "whsec_" + base64 of 32 random bytes, shown once at
    -- creation; kept to sign with (an HMAC key, unlike an API key, cannot be stored hashed).
    secret               text NOT NULL CHECK (secret LIKE 'whsec_%'),
    -- The complaintEvents filter.
    filter_complaint_id  bigint REFERENCES complaints (id),
    filter_opd_id        bigint REFERENCES opds (id),
    filter_region_code   text REFERENCES regions (code),
    filter_status        text,
    -- The last event delivered (or passed over: not this key's to see, or not matching).
    cursor               bigint NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    state                text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'DISABLED')),
    disabled_reason      text,
    disabled_at          timestamptz,
    -- The current run of failures at the head of its stream, if any.
    failing_since        timestamptz,
    failed_attempts      integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    last_error           text,
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),
    lease_owner          text,
    lease_until          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'DISABLED') = (disabled_at IS NOT NULL))
);
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (next_attempt_at) WHERE state = 'ACTIVE';
CREATE INDEX webhook_endpoints_key ON webhook_endpoints (api_key_id);

-- Every request sent to an endpoint, answered or not: what partners and ADMIN read to see why
-- an endpoint fails.
CREATE TABLE webhook_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id   bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id      bigint NOT NULL REFERENCES complaint_events (id),
    -- The `webhook-id` header: the same for every attempt at one event, so that a partner
    -- receiving an event twice (at least once) can tell.
    message_id    text NOT NULL,
    attempt       integer NOT NULL CHECK (attempt >= 1),
    attempted_at  timestamptz NOT NULL,
    -- NULL: no HTTP answer (no connection, a timeout).
    status_code   integer,
    error         text,
    latency_ms    double precision NOT NULL CHECK (latency_ms >= 0),
    succeeded     boolean NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);
