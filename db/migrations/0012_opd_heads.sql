-- OPD heads with their terms of office, and each head's own social-media accounts. A breach or
-- an escalation is answered for by the head in office when it happened, so a head is a term
-- (from–to), not a name on the OPD's row.

-- An OPD's terms never overlap: an exclusion constraint over (opd_id, term) needs btree_gist for
-- the `=` on a bigint (a contrib module in the embedded server and in Debian's PostgreSQL).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE opd_heads (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    opd_id      bigint NOT NULL REFERENCES opds (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name <> ''),
    title       text,
    -- In office from term_start (inclusive) to term_end (exclusive); NULL: in office still.
    term_start  timestamptz NOT NULL,
    term_end    timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (term_end > term_start),
    CONSTRAINT opd_heads_terms_do_not_overlap
        EXCLUDE USING gist (opd_id WITH =, tstzrange(term_start, term_end) WITH &&)
);

CREATE TABLE opd_head_accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    head_id      bigint NOT NULL REFERENCES opd_heads (id) ON DELETE CASCADE,
    platform     text NOT NULL,
    handle       text NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
    verified     boolean NOT NULL DEFAULT false,
    -- The platform's own id of the account, as webhooks name it (see opd_social_accounts).
    external_id  text CHECK (length(external_id) BETWEEN 1 AND 100),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX opd_head_accounts_platform_handle ON opd_head_accounts (platform, lower(handle));
CREATE UNIQUE INDEX opd_head_accounts_platform_external_id
    ON opd_head_accounts (platform, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX opd_head_accounts_head ON opd_head_accounts (head_id);

-- The heads recorded so far, on the OPD's row: each becomes a term that began when the OPD was
-- registered, the best moment known. opds.head_name and head_title stay, as a mirror of the head
-- in office that createOpd, updateOpd and appointOpdHead keep (domain/heads.py); opd_heads is
-- what Kilas reads.
INSERT INTO opd_heads (opd_id, name, title, term_start)
SELECT id, head_name, head_title, created_at FROM opds WHERE coalesce(head_name, '') <> '';
