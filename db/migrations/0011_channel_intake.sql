-- Channel intake: what citizens send to the province's social-media accounts, received from the
-- platforms' webhooks (channels/), kept raw in a durable inbox before Kilas answers the platform,
-- then processed into complaints, routed by the account the citizen addressed.

-- The platform's own id of an account (a WhatsApp number's phone_number_id, a Facebook page's or
-- an Instagram business account's id, an X user's id): webhooks name accounts by it, not always
-- by their handle.
ALTER TABLE opd_social_accounts
    ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 100);
CREATE UNIQUE INDEX opd_social_accounts_platform_external_id
    ON opd_social_accounts (platform, external_id) WHERE external_id IS NOT NULL;

-- Accounts of the province itself (the governor's, the command center's): what a citizen sends
-- there goes to the command center's verification queue, whoever it concerns.
CREATE TABLE province_accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner        text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    platform     text NOT NULL,
    handle       text NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
    external_id  text CHECK (length(external_id) BETWEEN 1 AND 100),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX province_accounts_platform_handle ON province_accounts (platform, lower(handle));
CREATE UNIQUE INDEX province_accounts_platform_external_id
    ON province_accounts (platform, external_id) WHERE external_id IS NOT NULL;

-- The inbox: each verified delivery, its body exactly as it arrived, stored before the platform
-- gets its 2xx. A worker processes the PENDING ones (several instances at once: SKIP LOCKED),
-- retrying a failure later and later; one that keeps failing is DEAD until an operator replays it.
CREATE TABLE channel_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         text NOT NULL CHECK (platform IN (
                         'WHATSAPP', 'INSTAGRAM', 'FACEBOOK', 'X', 'INTAKE')),
    body             bytea NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    state            text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DONE', 'DEAD')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    processed_at     timestamptz,
    -- What processing made of it: complaints created, messages already known, messages ignored.
    created          integer NOT NULL DEFAULT 0,
    known            integer NOT NULL DEFAULT 0,
    ignored          integer NOT NULL DEFAULT 0,
    CHECK ((state = 'DONE') = (processed_at IS NOT NULL))
);
CREATE INDEX channel_deliveries_due ON channel_deliveries (next_attempt_at, id)
    WHERE state = 'PENDING';
CREATE INDEX channel_deliveries_dead ON channel_deliveries (id) WHERE state = 'DEAD';
