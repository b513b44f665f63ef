-- Replies on the channel: when a complaint that came through a platform is received, assigned,
-- followed up, resolved or rejected, the citizen is answered where they wrote, through an outbox
-- written in the same transaction as the event and sent by a worker (intake/replies.py).

-- The short texts, in Indonesian, which ADMIN edits. {opd} is the OPD's short name, {nomor} the
-- tracking number (written only in a private reply: a public one says where to find it).
CREATE TABLE reply_templates (
    event_type  text PRIMARY KEY CHECK (event_type IN (
                    'SUBMITTED', 'ASSIGNED', 'FOLLOWED_UP', 'RESOLVED', 'REJECTED')),
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT 'system'
);
INSERT INTO reply_templates (event_type, text) VALUES
    ('SUBMITTED', 'Terima kasih, laporan Anda sudah kami terima dengan nomor {nomor} dan segera '
                  'kami verifikasi.'),
    ('ASSIGNED', 'Laporan Anda ({nomor}) sudah diteruskan ke {opd} dan wajib ditindaklanjuti '
                 'dalam 1x24 jam.'),
    ('FOLLOWED_UP', 'Laporan Anda ({nomor}) sedang ditindaklanjuti oleh {opd}.'),
    ('RESOLVED', 'Laporan Anda ({nomor}) sudah diselesaikan oleh {opd}. Mohon konfirmasi bila '
                 'masalahnya memang sudah beres.'),
    ('REJECTED', 'Mohon maaf, laporan Anda ({nomor}) tidak dapat kami proses. Silakan kirim '
                 'laporan baru dengan keterangan lengkap.');

-- Where a channel complaint's citizen is answered: the platform's identifiers taken from the
-- message (channels.InboundMessage.reply_to), and whether the answer is public (a reply to a
-- tweet or a comment) or private (a chat, a DM, an SMS).
CREATE TABLE channel_contacts (
    complaint_id  bigint PRIMARY KEY REFERENCES complaints (id) ON DELETE CASCADE,
    platform      text NOT NULL,
    reply_to      jsonb NOT NULL CHECK (jsonb_typeof(reply_to) = 'object'),
    public        boolean NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one reply per event, rendered when the event is written. PENDING → SENDING (the
-- worker committed that it is about to send) → SENT; a refusal the platform may overcome
-- (429, 5xx, no connection) goes back to PENDING later, one it will not (4xx) is DEAD; a send
-- whose fate is unknown (a timeout after the request left, a crash while SENDING) is UNCERTAIN,
-- never sent again by itself: a reply is never sent twice.
CREATE TABLE channel_replies (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id         bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    event_id             bigint NOT NULL UNIQUE REFERENCES complaint_events (id),
    event_type           text NOT NULL,
    platform             text NOT NULL,
    reply_to             jsonb NOT NULL,
    public               boolean NOT NULL,
    text                 text NOT NULL,
    state                text NOT NULL DEFAULT 'PENDING' CHECK (state IN (
                             'PENDING', 'SENDING', 'SENT', 'UNCERTAIN', 'DEAD')),
    attempts             integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at      timestamptz NOT NULL,
    claimed_at           timestamptz,
    last_error           text,
    sent_at              timestamptz,
    platform_message_id  text,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_replies_due ON channel_replies (next_attempt_at, id) WHERE state = 'PENDING';
CREATE INDEX channel_replies_sending ON channel_replies (claimed_at) WHERE state = 'SENDING';
CREATE INDEX channel_replies_complaint ON channel_replies (complaint_id, id);
