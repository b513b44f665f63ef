-- Province packs (issue 14): what is particular to a province (its regions, OPDs, categories,
-- SLA policy, accounts, the wall's title and map) comes from a pack (packs/), applied after the
-- migrations; Central Java's reference data of 0002 is what its pack carries. A database serves
-- one province: the pack applied to it is recorded here, and another pack is only applied to a
-- database that holds no complaints, programmes, keys or endpoints yet (db/packs.py).

-- Region codes are Kemendagri's for any province (12.75 Kota Medan, 33.74 Kota Semarang); a
-- pack says which province's they must be.
ALTER TABLE regions DROP CONSTRAINT regions_code_check;
ALTER TABLE regions ADD CONSTRAINT regions_code_check CHECK (code ~ '^[0-9]{2}\.[0-9]{2}$');

-- BPS (Statistics Indonesia) numbers regencies in its own order, which for some provinces is not
-- Kemendagri's (North Sumatra's 12.04 is BPS 1201); partners joining BPS tables need it.
ALTER TABLE regions ADD COLUMN bps_code text CHECK (bps_code ~ '^[0-9]{4}$');
UPDATE regions SET bps_code = replace(code, '.', '') WHERE code LIKE '33.%';

CREATE TABLE province (
    -- One row: the pack this database serves.
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pack        text NOT NULL CHECK (length(pack) BETWEEN 1 AND 100),
    code        text NOT NULL CHECK (code ~ '^[0-9]{2}$'),
    -- What a new complaint's tracking number starts with: JTG-261202-7KQ2MX.
    tracking_prefix  text NOT NULL CHECK (tracking_prefix ~ '^[A-Z]{2,5}$'),
    -- A digest of the pack's files as last applied: a start with the same files does nothing.
    digest      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
