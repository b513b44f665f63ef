-- Programmes (GRMS-like) and their located work items; complaints link to work items.

CREATE TABLE programmes (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code             text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,39}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '',
    owner_opd_id     bigint NOT NULL REFERENCES opds (id),
    fiscal_year      integer NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    budget_idr       numeric(18, 0) NOT NULL CHECK (budget_idr >= 0),
    realisation_idr  numeric(18, 0) NOT NULL DEFAULT 0 CHECK (realisation_idr >= 0),
    target           numeric(14, 2) NOT NULL CHECK (target >= 0),
    achievement      numeric(14, 2) NOT NULL DEFAULT 0 CHECK (achievement >= 0),
    unit             text NOT NULL CHECK (length(unit) BETWEEN 1 AND 40),
    status           text NOT NULL DEFAULT 'PLANNED' CHECK (status IN (
                         'PLANNED', 'ONGOING', 'COMPLETED', 'SUSPENDED')),
    predecessor_id   bigint REFERENCES programmes (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (predecessor_id IS NULL OR predecessor_id <> id)
);
CREATE INDEX programmes_owner ON programmes (owner_opd_id);

CREATE TABLE work_items (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id    bigint NOT NULL REFERENCES programmes (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    region_code     text NOT NULL REFERENCES regions (code),
    road_segment    text,
    lat             double precision CHECK (lat BETWEEN -90 AND 90),
    lon             double precision CHECK (lon BETWEEN -180 AND 180),
    length_km       numeric(8, 2) CHECK (length_km >= 0),
    progress_pct    numeric(5, 2) NOT NULL DEFAULT 0 CHECK (progress_pct BETWEEN 0 AND 100),
    status          text NOT NULL DEFAULT 'PLANNED' CHECK (status IN (
                        'PLANNED', 'ONGOING', 'COMPLETED', 'SUSPENDED')),
    planned_start   date,
    planned_end     date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start)
);
CREATE INDEX work_items_programme ON work_items (programme_id, id);
CREATE INDEX work_items_region ON work_items (region_code);

ALTER TABLE complaints
    ADD CONSTRAINT complaints_work_item FOREIGN KEY (work_item_id) REFERENCES work_items (id);
CREATE INDEX complaints_work_item ON complaints (work_item_id) WHERE work_item_id IS NOT NULL;
