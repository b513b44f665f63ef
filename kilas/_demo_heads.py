"""The demo's OPD heads: one for every OPD, each with a verified account of their own, and one
change of head within the demo's weeks: DPUBMCK, the busiest unit, loses its head to an acting
one (Plt.), so `accountability` shows both, each with the breaches of their own time.

The people are invented. Heads are appointed through the domain (domain/heads.py), as the API
would; an OPD that already has a head (loaded before, or set by an administrator) is left as it
is, so loading again changes nothing."""

from datetime import date, datetime, time, timedelta

from kilas.db import heads as heads_db
from kilas.db import reference as reference_db
from kilas.db.pool import Connection
from kilas.domain.heads import HeadAccount, appoint
from kilas.schema.ids import WIB

# slug: (name, title, in office since (a date), their verified accounts (platform, handle))
Spec = tuple[str, str, str, tuple[tuple[str, str], ...]]
HEADS: dict[str, Spec] = {
    "dpubmck": ("Ir. Bambang Wicaksono, M.T.", "Kepala Dinas", "2023-02-06",
                (("X", "bambangwicak"), ("INSTAGRAM", "bambang.wicaksono"))),
    "pusdataru": ("Ir. Hadi Prasetyo, M.T.", "Kepala Dinas", "2024-01-08",
                  (("INSTAGRAM", "hadiprasetyo.sda"),)),
    "disperakim": ("Dra. Sri Handayani, M.Si.", "Kepala Dinas", "2023-09-18",
                   (("INSTAGRAM", "srihandayani.perakim"),)),
    "disdikbud": ("Dr. Agus Santoso, M.Pd.", "Kepala Dinas", "2024-03-04",
                  (("X", "agussantoso_pd"), ("INSTAGRAM", "agussantoso.disdik"))),
    "dinkes": ("dr. Yuliana Kartika Sari, M.Kes.", "Kepala Dinas", "2023-06-12",
               (("INSTAGRAM", "dr.yulianakartika"), ("X", "dryuliana_ks"))),
    "dinsos": ("Drs. Imam Suhartono, M.M.", "Kepala Dinas", "2024-07-01",
               (("INSTAGRAM", "imamsuhartono.sos"),)),
    "disnakertrans": ("Ahmad Fauzi, S.H., M.H.", "Kepala Dinas", "2023-11-20",
                      (("X", "fauzi_naker"),)),
    "esdm": ("Ir. Tri Wahyudi, M.Eng.", "Kepala Dinas", "2024-02-12",
             (("INSTAGRAM", "triwahyudi.esdm"),)),
    "disporapar": ("Dwi Astuti Rahayu, S.E., M.M.", "Kepala Dinas", "2023-04-03",
                   (("INSTAGRAM", "dwiastutirahayu"),)),
    "dishub": ("Drs. Heru Setiawan, M.T.", "Kepala Dinas", "2024-05-13",
               (("X", "herusetiawan_mt"), ("INSTAGRAM", "herusetiawan.hub"))),
    "diskominfo": ("Riyanto Nugroho, S.Kom., M.Kom.", "Kepala Dinas", "2023-08-07",
                   (("X", "riyantonugroho"),)),
    "disperindag": ("Endang Purwaningsih, S.E., M.Si.", "Kepala Dinas", "2024-09-02",
                    (("INSTAGRAM", "endangpurwaningsih.id"),)),
    "dinkopukm": ("Budi Hartono, S.E., M.M.", "Kepala Dinas", "2023-10-16",
                  (("INSTAGRAM", "budihartono.ukm"),)),
    "dpmptsp": ("Rina Kusumawati, S.H., M.Si.", "Kepala Dinas", "2024-04-22",
                (("X", "rinakusumawati"),)),
    "distanbun": ("Ir. Slamet Riyadi, M.P.", "Kepala Dinas", "2023-05-08",
                  (("INSTAGRAM", "slametriyadi.tani"),)),
    "dishanpan": ("Ir. Wahyu Hidayat, M.Si.", "Kepala Dinas", "2024-06-10",
                  (("INSTAGRAM", "wahyuhidayat.pangan"),)),
    "disnakkeswan": ("drh. Lilik Suryani, M.Si.", "Kepala Dinas", "2023-12-04",
                     (("INSTAGRAM", "drh.liliksuryani"),)),
    "dkp": ("Ir. Teguh Santosa, M.Si.", "Kepala Dinas", "2024-08-05",
            (("X", "teguhsantosa_kp"),)),
    "dlhk": ("Dr. Ir. Suryo Adi Nugroho, M.Sc.", "Kepala Dinas", "2023-07-17",
             (("INSTAGRAM", "suryoadinugroho"), ("X", "suryo_adi_n"))),
    "dispermadesdukcapil": ("Drs. Eko Prasetyo, M.Si.", "Kepala Dinas", "2024-10-07",
                            (("INSTAGRAM", "ekoprasetyo.desa"),)),
    "dp3ap2kb": ("Dra. Ratna Dewi Lestari, M.Si.", "Kepala Dinas", "2023-03-20",
                 (("INSTAGRAM", "ratnadewilestari"),)),
    "dinarpus": ("Yuni Astuti, S.Sos., M.Si.", "Kepala Dinas", "2024-11-11",
                 (("INSTAGRAM", "yuniastuti.arpus"),)),
    "satpolpp": ("Drs. Bayu Aji Pamungkas, M.Si.", "Kepala Satuan Polisi Pamong Praja",
                 "2023-01-16", (("X", "bayuaji_pp"),)),
    "bpbd": ("Agung Budi Santoso, S.T., M.Si.", "Kepala Pelaksana", "2024-01-29",
             (("X", "agungbudi_bpbd"), ("INSTAGRAM", "agungbudisantoso"))),
    "bapenda": ("Nur Hidayati, S.E., M.Ak.", "Kepala Badan", "2023-08-21",
                (("INSTAGRAM", "nurhidayati.pajak"),)),
    "bkd": ("Drs. Joko Susilo, M.M.", "Kepala Badan", "2024-03-18",
            (("INSTAGRAM", "jokosusilo.bkd"),)),
    "bappeda": ("Dr. Ir. Hendra Kusuma, M.Sc.", "Kepala Badan", "2023-10-02",
                (("X", "hendrakusuma_pb"),)),
    "bpkad": ("Fajar Nugraha, S.E., Ak., M.M.", "Kepala Badan", "2024-07-15",
              (("INSTAGRAM", "fajarnugraha.aset"),)),
    "kesbangpol": ("Drs. Haryo Wibisono, M.Si.", "Kepala Badan", "2023-06-26",
                   (("INSTAGRAM", "haryowibisono"),)),
    "inspektorat": ("Dra. Siti Aminah, M.Ak.", "Inspektur", "2024-02-26",
                    (("X", "sitiaminah_insp"),)),
    "setda": ("Drs. Sutrisno Hadi, M.M.", "Sekretaris Daerah", "2023-09-04",
              (("X", "sutrisnohadi"), ("INSTAGRAM", "sutrisnohadi.setda"))),
}  # fmt: skip

# The change of head: DPUBMCK gets an acting head this many days before the newest demo
# complaint (the successor's own date is not used).
SUCCESSION = ("dpubmck", 20)
SUCCESSOR: Spec = ("Ir. Retno Wulandari, M.Sc.", "Plt. Kepala Dinas", "",
                   (("X", "retnowulandari"), ("INSTAGRAM", "retno.wulandari.pu")))  # fmt: skip


def _morning(day: date) -> datetime:
    """9:00 in WIB, when a head is sworn in (dilantik)."""
    return datetime.combine(day, time(9), WIB)


async def load_demo_heads(conn: Connection) -> int:
    """Appoint the demo's heads of the OPDs that have none; return how many were appointed."""
    # The change falls within the demo's weeks: counted back from its newest complaint (from
    # now, on a first load).
    anchor: datetime = await conn.fetchval(
        "SELECT coalesce(max(created_at), now()) FROM complaints WHERE external_ref LIKE 'demo-%'"
    )
    now: datetime = await conn.fetchval("SELECT now()")
    opds = {row.slug: row.id for row in await reference_db.all_opds(conn)}
    changed, days_before = SUCCESSION
    change = anchor.astimezone(WIB).date() - timedelta(days=days_before)
    appointed = 0
    for slug, spec in HEADS.items():
        opd_id = opds.get(slug)
        if opd_id is None or await heads_db.heads_by_opd_ids(conn, [opd_id]):
            continue
        terms = [(spec, date.fromisoformat(spec[2]))]
        if slug == changed:
            terms.append((SUCCESSOR, change))
        async with conn.transaction():
            for (name, title, _, accounts), since in terms:
                await appoint(
                    conn,
                    opd_id,
                    name=name,
                    title=title,
                    term_start=_morning(since),
                    now=now,
                    accounts=[HeadAccount(p, handle, verified=True) for p, handle in accounts],
                )
                appointed += 1
    return appointed
