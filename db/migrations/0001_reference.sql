-- Reference tables: regions, OPDs, categories and the SLA policy history.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^33\.[0-9]{2}$'),
    name        text NOT NULL,
    type        text NOT NULL CHECK (type IN ('KABUPATEN', 'KOTA')),
    seat        text NOT NULL,
    seat_lat    double precision NOT NULL CHECK (seat_lat BETWEEN -90 AND 90),
    seat_lon    double precision NOT NULL CHECK (seat_lon BETWEEN -180 AND 180)
);

CREATE TABLE opds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    short_name  text NOT NULL CHECK (length(short_name) BETWEEN 1 AND 80),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    kind        text NOT NULL,
    head_name   text,
    head_title  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE opd_social_accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    opd_id      bigint NOT NULL REFERENCES opds (id) ON DELETE CASCADE,
    platform    text NOT NULL,
    handle      text NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
    verified    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX opd_social_accounts_platform_handle ON opd_social_accounts (platform, lower(handle));
CREATE INDEX opd_social_accounts_opd ON opd_social_accounts (opd_id);

CREATE TABLE categories (
    code              text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z_]{1,39}$'),
    name              text NOT NULL,
    name_en           text NOT NULL,
    default_opd_id    bigint NOT NULL REFERENCES opds (id),
    -- Per-category override of the policy's resolution deadline; NULL means the province default.
    resolution_hours  integer CHECK (resolution_hours > 0)
);

-- SLA policy history. A complaint keeps the version in force when it was assigned, so adding a
-- version never rewrites the deadlines of complaints already assigned.
CREATE TABLE sla_policies (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL,
    effective_from    timestamptz NOT NULL UNIQUE,
    response_hours    integer NOT NULL CHECK (response_hours > 0),
    resolution_hours  integer NOT NULL CHECK (resolution_hours > 0),
    created_at        timestamptz NOT NULL DEFAULT now()
);
