"""Data tables for kilas.demo: per-category complaint templates and the notes of their handling,
in Indonesian, for any province (its place names, roads and reporters come from its pack's
demo). Templates use the placeholders {seat}, {kec}, {region}, {road}, {km}, {school} and
{province}; each complaint template comes with its resolution."""

# Shares of the province's complaint statistics: roads, education, labour, energy and social
# assistance lead every year.
CATEGORY_WEIGHTS: dict[str, float] = {
    "JALAN": 22, "PENDIDIKAN": 13, "SOSIAL": 11, "KETENAGAKERJAAN": 10, "ENERGI": 9,
    "KESEHATAN": 5, "AIR": 4, "KEPENDUDUKAN": 3, "PERUMAHAN": 3, "TRANSPORTASI": 3,
    "LINGKUNGAN": 3, "PAJAK": 2, "PERTANIAN": 2, "BENCANA": 2, "PERIZINAN": 1.5,
    "KETERTIBAN": 1.5, "PEREMPUAN_ANAK": 1.5, "ASN": 1.5, "INFORMASI": 1.5,
}  # fmt: skip

TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "JALAN": (
        ("Jalan provinsi di ruas {road} dekat km {km} berlubang besar, sudah dua motor jatuh "
         "minggu ini.", "Lubang sudah ditambal, terima kasih atas laporannya."),
        ("Aspal di ruas {road} sekitar {kec} mengelupas dan bergelombang, kalau malam gelap "
         "sangat berbahaya.", "Perataan dan pelapisan ulang aspal di ruas {road} sekitar {kec} "
         "sudah selesai, jalan bisa dilalui dengan normal."),
        ("Lampu PJU di ruas {road} wilayah {kec} mati sepanjang kurang lebih 1 km, rawan "
         "kecelakaan dan begal.", "Lampu PJU yang mati sudah diganti dan menyala kembali."),
        ("Jembatan di ruas {road} km {km} pagar pengamannya patah dan lantainya retak, truk masih "
         "lewat setiap hari.", "Pagar pengaman jembatan sudah dipasang ulang dan lantai yang "
         "retak sudah diperkuat."),
        ("Ada lubang dalam di tengah jalan {road} depan pasar {kec}, saat hujan tergenang air "
         "jadi tidak kelihatan.", "Lubang depan pasar {kec} sudah ditambal dan saluran tepi "
         "jalan dibersihkan agar air tidak menggenang."),
        ("Galian pipa di bahu jalan {road} dekat km {km} tidak ditutup kembali, sudah lebih dari "
         "seminggu.", "Bekas galian sudah ditutup dan dipadatkan, pelaksana galian sudah "
         "diberi teguran."),
    ),
    "PENDIDIKAN": (
        ("Ijazah anak saya lulusan {school} tahun lalu masih ditahan karena tunggakan SPP Rp 2,4 "
         "juta. Katanya sekolah negeri gratis?", "Ijazah sudah diserahkan kepada siswa tanpa "
         "syarat pelunasan, pihak sekolah sudah dibina oleh Cabang Dinas."),
        ("Di {school} ada tarikan sumbangan pembangunan Rp 1,5 juta per siswa dengan alasan "
         "keputusan komite. Apakah ini diperbolehkan?", "Sumbangan bersifat sukarela dan tidak "
         "boleh ditentukan besarannya; komite {school} sudah membatalkan tarikan tersebut."),
        ("Atap dua ruang kelas di {school} bocor dan plafonnya jebol, siswa terpaksa belajar di "
         "musala.", "Perbaikan atap dan plafon dua ruang kelas sudah selesai, kegiatan belajar "
         "kembali normal."),
        ("Anak saya tidak diterima di {school} lewat jalur domisili padahal rumah kami hanya 600 "
         "meter dari sekolah.", "Hasil verifikasi ulang: ada kesalahan titik koordinat, anak "
         "pelapor sudah diterima di {school}."),
        ("Dana PIP anak saya di {school} belum cair sejak semester lalu, sekolah bilang masih "
         "proses.", "Dana PIP sudah cair ke rekening siswa, pelapor sudah kami hubungi."),
        ("Guru honorer di {school} belum menerima honor selama tiga bulan.",
         "Honor guru honorer untuk tiga bulan sudah dibayarkan oleh sekolah."),
    ),
    "KETENAGAKERJAAN": (
        ("THR di pabrik garmen tempat saya bekerja di {kec} dicicil tiga kali dan sampai sekarang "
         "baru dibayar separuh.", "Perusahaan sudah melunasi THR seluruh pekerja setelah "
         "pemeriksaan pengawas ketenagakerjaan."),
        ("Gaji karyawan di sebuah toko swalayan di {seat} masih di bawah UMK {region}, lembur "
         "juga tidak dibayar.", "Pengawas sudah menerbitkan nota pemeriksaan; perusahaan "
         "menyesuaikan upah dengan UMK mulai bulan ini."),
        ("Saya kena PHK sepihak dari pabrik di {kec} tanpa pesangon setelah enam tahun bekerja.",
         "Mediasi bipartit difasilitasi mediator hubungan industrial, pesangon pelapor sudah "
         "dibayarkan sesuai kesepakatan."),
        ("Gaji saya dipotong untuk BPJS Ketenagakerjaan, tapi saat dicek kepesertaan saya tidak "
         "aktif.", "Perusahaan sudah melunasi tunggakan iuran dan kepesertaan pelapor aktif "
         "kembali."),
        ("Pelatihan menjahit di BLK {seat} katanya gratis tapi peserta diminta bayar Rp 300 ribu "
         "untuk bahan.", "Pungutan dihentikan dan uang peserta sudah dikembalikan, bahan "
         "pelatihan ditanggung anggaran BLK."),
    ),
    "ENERGI": (
        ("Elpiji 3 kg langka di {kec}, sudah keliling lima pangkalan kosong semua, di pengecer "
         "harganya sampai Rp 28 ribu.", "Pasokan tambahan elpiji 3 kg sudah disalurkan ke "
         "pangkalan di {kec} lewat operasi pasar."),
        ("Ada tambang galian C tanpa izin di {kec}, truk pasir lalu-lalang bikin jalan rusak dan "
         "debu tebal.", "Kegiatan tambang sudah dihentikan bersama aparat karena tidak "
         "memiliki izin."),
        ("Pengajuan bantuan pasang baru listrik untuk rumah orang tua saya di {kec} sejak tiga "
         "bulan lalu belum ada kabar.", "Rumah orang tua pelapor sudah masuk daftar penerima "
         "dan sambungan listrik sudah terpasang."),
        ("Antrean solar di SPBU {kec} mengular sampai ke badan jalan tiap pagi, nelayan dan "
         "petani kesulitan.", "Kuota solar SPBU di {kec} sudah ditambah, antrean sudah terurai."),
        ("Sumur warga di {kec} kering sejak ada pengeboran air tanah oleh pabrik di dekat "
         "kampung.", "Izin pengambilan air tanah pabrik sudah dievaluasi dan debitnya "
         "dibatasi."),
    ),
    "SOSIAL": (
        ("Ibu saya lansia di {kec} sudah dua tahap tidak menerima bantuan PKH padahal kondisinya "
         "tidak berubah.", "Data ibu pelapor sudah dipulihkan, bantuan PKH tahap berikutnya "
         "akan diterima kembali."),
        ("Kartu KIS PBI keluarga kami tiba-tiba nonaktif saat mau berobat di RSUD {seat}, padahal "
         "kami masih keluarga miskin.", "Kepesertaan PBI JK keluarga pelapor sudah diaktifkan "
         "kembali."),
        ("Penyaluran BPNT di desa kami di {kec} tidak tepat sasaran, yang rumahnya bagus malah "
         "dapat.", "Verifikasi lapangan sudah dilakukan dan data penerima yang tidak layak "
         "diusulkan untuk dicoret."),
        ("Ada ODGJ terlantar di sekitar terminal {seat}, sering tidur di emperan toko dan kadang "
         "mengamuk.", "Yang bersangkutan sudah dievakuasi dan dirawat di RSJD, keluarganya "
         "sedang ditelusuri."),
        ("Sudah daftar DTSEN lewat desa sejak tahun lalu tapi nama kami belum masuk data "
         "penerima bantuan.", "Usulan pelapor sudah masuk DTSEN dan menunggu penetapan "
         "penerima periode berikutnya."),
    ),
    "KESEHATAN": (
        ("Pelayanan IGD RSUD {seat} lambat, ayah saya menunggu hampir empat jam tanpa "
         "pemeriksaan.", "Manajemen RSUD sudah mengevaluasi alur triase IGD dan menambah "
         "dokter jaga."),
        ("Puskesmas {kec} sering kehabisan obat, pasien BPJS disuruh beli sendiri di apotek "
         "luar.", "Stok obat puskesmas {kec} sudah dipenuhi dari gudang farmasi kabupaten."),
        ("Banyak kasus DB di lingkungan kami di {kec}, mohon dilakukan fogging.",
         "Fogging fokus sudah dilakukan dan kader jumantik diaktifkan kembali."),
    ),
    "AIR": (
        ("Saluran irigasi di {kec} jebol, sawah puluhan hektare terancam kekeringan.",
         "Saluran irigasi yang jebol sudah diperbaiki, air sudah mengalir ke sawah."),
        ("Tanggul sungai di {kec} retak dan rembes, warga khawatir jebol kalau hujan deras lagi.",
         "Tanggul sudah diperkuat dengan karung pasir dan bronjong."),
        ("Setiap hujan ruas {road} dekat {kec} banjir setinggi lutut karena drainase tersumbat.",
         "Drainase sudah dinormalisasi, genangan surut dalam satu jam setelah hujan."),
    ),
    "PERUMAHAN": (
        ("Pengajuan bantuan RTLH untuk rumah kami di {kec} yang dindingnya retak sudah dua tahun "
         "belum ada realisasi.", "Rumah pelapor sudah diverifikasi dan masuk daftar penerima "
         "bantuan RTLH tahun ini."),
        ("Sambungan air bersih program Pamsimas di {kec} mati sejak sebulan.",
         "Pompa Pamsimas sudah diganti dan air bersih mengalir kembali."),
    ),
    "TRANSPORTASI": (
        ("Bus Trans {province} koridor {seat} sering terlambat lebih dari 40 menit dan haltenya "
         "tidak ada peneduh.", "Armada cadangan sudah dioperasikan dan halte diberi peneduh."),
        ("Truk ODOL sering lewat ruas {road} dan parkir di bahu jalan.",
         "Operasi gabungan penertiban kendaraan ODOL sudah dilakukan di ruas {road}."),
        ("Lampu lalu lintas di simpang {kec} mati sejak tiga hari, sering hampir tabrakan.",
         "Lampu lalu lintas sudah diperbaiki dan berfungsi normal."),
    ),
    "LINGKUNGAN": (
        ("Limbah pabrik dibuang ke sungai di {kec}, airnya hitam dan baunya menyengat.",
         "Pabrik sudah diberi sanksi administratif dan wajib memperbaiki IPAL."),
        ("Asap pembakaran sampah di TPA {seat} sampai ke permukiman, anak-anak banyak yang batuk.",
         "Pembakaran di TPA sudah dihentikan dan titik api dipadamkan."),
    ),
    "BENCANA": (
        ("Tebing di tepi ruas {road} dekat {kec} longsor sebagian, masih ada retakan di atasnya.",
         "Material longsor sudah dibersihkan dan dipasang rambu serta bronjong sementara."),
        ("Warga terdampak banjir di {kec} belum menerima bantuan logistik, sudah tiga hari "
         "mengungsi di balai desa.", "Bantuan logistik dan dapur umum sudah disalurkan ke "
         "pengungsian."),
    ),
    "KEPENDUDUKAN": (
        ("Sudah tiga minggu mengurus KTP-el di Disdukcapil {seat}, blangko katanya habis terus.",
         "Blangko sudah tersedia dan KTP-el pelapor sudah dicetak."),
        ("Nama ibu di KK kami salah, mengurus perbaikan di kecamatan {kec} dilempar ke sana "
         "kemari.", "Perbaikan data KK sudah selesai dan KK baru bisa diambil."),
    ),
    "PERIZINAN": (
        ("Pengajuan izin usaha lewat OSS untuk UMKM saya di {seat} sudah sebulan statusnya masih "
         "verifikasi.", "Perizinan pelapor sudah terbit setelah dokumen dilengkapi."),
        ("Ada gudang di {kec} yang berdiri tanpa papan izin dan sepertinya melanggar tata ruang.",
         "Pemilik gudang sudah dipanggil dan diminta mengurus PBG sesuai tata ruang."),
    ),
    "PAJAK": (
        ("Bayar pajak kendaraan lewat aplikasi Sakpole sudah terpotong saldo tapi status belum "
         "lunas.", "Pembayaran sudah terekonsiliasi dan status pajak kendaraan pelapor lunas."),
        ("Antrean di Samsat {seat} panjang sekali, loket yang buka hanya dua.",
         "Loket tambahan sudah dibuka dan layanan Samsat keliling dijadwalkan di {kec}."),
    ),
    "KETERTIBAN": (
        ("Pedagang kaki lima memenuhi trotoar di sekitar alun-alun {seat}, pejalan kaki terpaksa "
         "turun ke jalan.", "PKL sudah ditata dan dipindahkan ke lokasi yang disediakan."),
        ("Tempat karaoke di {kec} buka sampai dini hari dan sangat berisik, diduga tanpa izin.",
         "Tempat karaoke sudah ditutup sementara sampai perizinannya lengkap."),
    ),
    "PERTANIAN": (
        ("Pupuk bersubsidi di kios resmi {kec} kosong saat musim tanam, petani terpaksa beli "
         "nonsubsidi.", "Distributor sudah mengirim pupuk bersubsidi ke kios di {kec}."),
        ("Kartu Tani kami di {kec} tidak bisa dipakai menebus pupuk, katanya kuota belum masuk.",
         "Kuota pupuk sudah masuk ke Kartu Tani dan bisa ditebus di kios."),
    ),
    "PEREMPUAN_ANAK": (
        ("Ada dugaan kekerasan terhadap anak di lingkungan kami di {kec}, tetangga sering "
         "mendengar anak menangis dan dipukuli.", "Anak sudah didampingi UPTD PPA dan kasusnya "
         "ditangani bersama kepolisian."),
        ("Mohon pendampingan untuk korban KDRT di {kec}, korban takut melapor ke polisi.",
         "Korban sudah mendapat pendampingan psikolog dan hukum dari UPTD PPA."),
    ),
    "ASN": (
        ("Ada oknum pegawai di kantor UPT {seat} yang meminta uang pelicin untuk mempercepat "
         "pengurusan.", "Inspektorat sudah memeriksa pegawai yang bersangkutan dan "
         "menjatuhkan hukuman disiplin."),
        ("Pegawai di kantor Samsat {seat} sering tidak ada di tempat saat jam kerja.",
         "Pegawai yang bersangkutan sudah dibina dan absensi diperketat."),
    ),
    "INFORMASI": (
        ("Mohon informasi jadwal dan syarat pendaftaran mudik gratis Pemprov {province} tahun ini.",
         "Informasi jadwal dan syarat sudah kami kirimkan kepada pelapor."),
        ("Situs layanan Pemprov tidak bisa dibuka sejak kemarin, padahal saya perlu mengunduh "
         "formulir.", "Gangguan server sudah diatasi dan situs bisa diakses kembali."),
    ),
}  # fmt: skip

FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "JALAN": (
        "Tim UPT Pengelolaan Jalan dan Jembatan sudah meninjau lokasi, penambalan dijadwalkan "
        "besok pagi.",
        "Laporan diterima, petugas UPT akan survei ke ruas {road} hari ini.",
    ),
    "PENDIDIKAN": (
        "Cabang Dinas Pendidikan sudah memanggil pihak {school} untuk klarifikasi.",
        "Laporan kami teruskan ke Cabang Dinas Pendidikan wilayah untuk dicek ke sekolah.",
    ),
    "KETENAGAKERJAAN": (
        "Pengawas ketenagakerjaan sudah menjadwalkan pemeriksaan ke perusahaan yang dilaporkan.",
    ),
    "ENERGI": ("Cabang Dinas ESDM sudah menjadwalkan pengecekan lapangan bersama pemerintah "
               "{region}.",),
    "SOSIAL": ("Laporan kami teruskan ke Dinas Sosial {region} untuk verifikasi data penerima.",),
    "": (
        "Laporan sudah kami terima dan sedang ditindaklanjuti oleh petugas terkait.",
        "Petugas sudah berkoordinasi dengan pemerintah {region} dan akan mengecek ke lokasi.",
    ),
}  # fmt: skip
LATER_FOLLOW_UPS = (
    "Pengecekan lapangan sudah dilakukan, penanganan masih berjalan.",
    "Masih menunggu jadwal dari pihak terkait, kami pantau terus.",
    "Mohon maaf atas keterlambatan, penanganan ditargetkan selesai minggu ini.",
)
LINKED_FOLLOW_UP = (
    "Ruas ini termasuk paket Jalan Cantik 2026, penanganan dikoordinasikan dengan pelaksana paket."
)
REOPEN_FOLLOW_UP = "Petugas kembali ke lokasi untuk memeriksa ulang sesuai laporan pelapor."

# When the reporter or the operator picks the wrong category first: (wrong category, reason).
REASSIGN: dict[str, tuple[str, str]] = {
    "JALAN": ("AIR", "Kerusakan badan jalan provinsi, bukan saluran air: kewenangan DPUBMCK."),
    "AIR": ("JALAN", "Genangan berasal dari saluran irigasi, kewenangan PUSDATARU."),
    "SOSIAL": ("KEPENDUDUKAN", "Masalah kepesertaan bansos, bukan data kependudukan."),
    "KESEHATAN": ("SOSIAL", "Menyangkut mutu layanan rumah sakit, ditangani Dinas Kesehatan."),
    "PENDIDIKAN": ("ASN", "Pungutan di SMA/SMK ditangani Disdikbud lewat Cabang Dinas."),
    "ENERGI": ("LINGKUNGAN", "Tambang tanpa izin ditangani Dinas ESDM."),
    "KETENAGAKERJAAN": ("PERIZINAN", "Perselisihan hubungan kerja ditangani Disnakertrans."),
}

OPENERS: dict[str, tuple[str, ...]] = {
    "SOCIAL": ("", "", "Lapor, Pak Gubernur. ", "Selamat siang, Min. ", "Mohon bantuan, Min. "),
    "CHAT": ("", "Assalamualaikum. ", "Selamat pagi, Pak/Bu. ", "Permisi, mau lapor. "),
    "FORMAL": ("", "Dengan hormat, saya sampaikan aduan berikut. "),
}
# Closing words; the urgent ones only suit complaints about something broken.
CLOSERS = ("", " Mohon segera ditindaklanjuti.", " Terima kasih.", " Mohon perhatiannya.")
REPAIR_CLOSERS = (" Mohon segera diperbaiki.", " Tolong jangan tunggu ada korban dulu.")
REPAIR_CATEGORIES = frozenset({"JALAN", "AIR", "PERUMAHAN", "TRANSPORTASI", "BENCANA"})
DUPLICATE_OPENERS = ("Saya ikut melaporkan. ", "Lapor lagi, belum ada tanggapan. ", "")

# Rejected complaints: texts that deserve the reason, and the operator's note.
SPAM = (
    "Promo pinjaman online cair 5 menit tanpa jaminan, hubungi WA 0857-xxxx-xxxx.",
    "tes",
    "Follow balik ya kak, cek bio untuk giveaway!",
)
INCOMPLETE = (
    "Jalannya rusak parah, tolong cepat.",
    "Kenapa bantuan belum cair?? Tolong dicek.",
    "Mohon ditindak, sudah meresahkan warga.",
)
NOT_OUR_AUTHORITY = (
    ("Jalan desa di {kec} rusak parah sejak dua tahun lalu dan tidak pernah diperbaiki.",
     "Jalan desa kewenangan Pemerintah {region}; aduan kami teruskan ke kanal aduan kabupaten."),
    ("Tagihan listrik PLN rumah saya di {kec} bulan ini naik dua kali lipat.",
     "Tagihan listrik kewenangan PLN; pelapor kami arahkan ke layanan PLN 123."),
    ("Sinyal internet di {kec} sangat buruk, mohon operator menambah BTS.",
     "Jaringan seluler kewenangan operator dan Komdigi; aduan diteruskan lewat SP4N-LAPOR!."),
)  # fmt: skip
REJECTION_NOTES = {
    "SPAM": "Bukan pengaduan layanan publik.",
    "INCOMPLETE": "Lokasi dan kronologi tidak disebutkan; pelapor tidak menjawab permintaan "
    "klarifikasi dalam 3x24 jam.",
    "DUPLICATE": "Laporan yang sama sudah ditangani di tiket {ticket}.",
}

RATING_COMMENTS = {
    5: ("Terima kasih, responsnya cepat.", "Mantap, sudah beres.", "Sangat membantu, matur nuwun."),
    4: ("Sudah ditangani, cuma agak lama.", "Terima kasih, semoga dirawat terus."),
    3: ("Lumayan, tapi baru setelah lapor dua kali.",),
    2: ("Perbaikannya asal-asalan.",),
    1: ("Belum ada perubahan di lapangan.",),
}
REOPEN_REASONS = (
    "Belum tuntas, masalahnya muncul lagi setelah hujan kemarin.",
    "Di lapangan belum ada perubahan, mohon dicek ulang.",
)
CLOSE_NOTES = (
    "Ditutup operator: pelapor tidak memberi konfirmasi dalam 5 hari.",
    "Ditutup operator setelah konfirmasi lewat telepon.",
)
ASSIGN_NOTES = ("", "", "Mohon ditindaklanjuti sesuai SLA 1x24 jam.", "Mohon dicek ke lokasi.")
