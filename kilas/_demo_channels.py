"""The demo's channel accounts: the official accounts citizens write to, so that the channel
samples (tests/channel_samples/), the README's curl and `kilas simulate` are routed as in the
province: to an OPD's verified account straight to that OPD, to an unverified one or to the
governor's to the command center's queue. Loading again changes nothing."""

from kilas.db.pool import Connection

# (OPD slug, platform, handle, the platform's own id, verified)
OPD_ACCOUNTS = [
    # The WhatsApp number and the X account of the samples (tests/channel_samples/).
    ("dpubmck", "WHATSAPP", "6281128001500", "106540352242922", True),
    ("dpubmck", "X", "dpu_jateng", "1287654321098765432", True),
    ("dpubmck", "INSTAGRAM", "dpubmck_jtg", "17841400000000001", True),
    ("dishub", "X", "dishub_jateng", "1287654321098760001", True),
    ("dishub", "WHATSAPP", "6281128001600", "106540352240001", True),
    ("dinkes", "INSTAGRAM", "dinkesjateng", "17841400000000002", True),
    ("dinkes", "FACEBOOK", "dinkesjateng", "104582300000002", True),
    ("pusdataru", "X", "pusdataru_jateng", "1287654321098760002", True),
    ("bpbd", "X", "bpbd_jateng", "1287654321098760003", True),
    # Not yet verified: what citizens write there waits for the command center.
    ("disperakim", "INSTAGRAM", "disperakim.jateng", "17841400000000003", False),
]
# (owner, platform, handle, the platform's own id)
PROVINCE_ACCOUNTS = [
    ("Gubernur Jawa Tengah", "X", "gubernur_jateng", "69183155"),
    ("Gubernur Jawa Tengah", "INSTAGRAM", "gubernur.jateng", "17841400000000009"),
    ("Command Center Jawa Tengah", "WHATSAPP", "6281128000000", "106540352249999"),
]


async def load_demo_channels(conn: Connection) -> None:
    for slug, platform, handle, external_id, verified in OPD_ACCOUNTS:
        await conn.execute(
            """
            INSERT INTO opd_social_accounts (opd_id, platform, handle, external_id, verified)
            SELECT id, $2, $3, $4, $5 FROM opds WHERE slug = $1
            ON CONFLICT DO NOTHING
            """,
            slug,
            platform,
            handle,
            external_id,
            verified,
        )
    for owner, platform, handle, external_id in PROVINCE_ACCOUNTS:
        await conn.execute(
            """
            INSERT INTO province_accounts (owner, platform, handle, external_id)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING
            """,
            owner,
            platform,
            handle,
            external_id,
        )
