-- Reference data for Central Java: the 35 regencies/cities, the provincial OPDs, the complaint
-- categories with their default OPD, and the SLA policy history (2x24 hours, then 1x24 hours).

INSERT INTO regions (code, name, type, seat, seat_lat, seat_lon) VALUES
    ('33.01', 'Cilacap', 'KABUPATEN', 'Cilacap', -7.7188, 109.0154),
    ('33.02', 'Banyumas', 'KABUPATEN', 'Purwokerto', -7.4245, 109.2302),
    ('33.03', 'Purbalingga', 'KABUPATEN', 'Purbalingga', -7.3883, 109.3637),
    ('33.04', 'Banjarnegara', 'KABUPATEN', 'Banjarnegara', -7.3963, 109.6968),
    ('33.05', 'Kebumen', 'KABUPATEN', 'Kebumen', -7.6681, 109.6525),
    ('33.06', 'Purworejo', 'KABUPATEN', 'Purworejo', -7.7133, 110.0089),
    ('33.07', 'Wonosobo', 'KABUPATEN', 'Wonosobo', -7.3632, 109.9002),
    ('33.08', 'Magelang', 'KABUPATEN', 'Mungkid', -7.5786, 110.2500),
    ('33.09', 'Boyolali', 'KABUPATEN', 'Boyolali', -7.5319, 110.5958),
    ('33.10', 'Klaten', 'KABUPATEN', 'Klaten', -7.7056, 110.6064),
    ('33.11', 'Sukoharjo', 'KABUPATEN', 'Sukoharjo', -7.6808, 110.8410),
    ('33.12', 'Wonogiri', 'KABUPATEN', 'Wonogiri', -7.8138, 110.9230),
    ('33.13', 'Karanganyar', 'KABUPATEN', 'Karanganyar', -7.5964, 110.9500),
    ('33.14', 'Sragen', 'KABUPATEN', 'Sragen', -7.4269, 111.0222),
    ('33.15', 'Grobogan', 'KABUPATEN', 'Purwodadi', -7.0869, 110.9156),
    ('33.16', 'Blora', 'KABUPATEN', 'Blora', -6.9698, 111.4184),
    ('33.17', 'Rembang', 'KABUPATEN', 'Rembang', -6.7083, 111.3433),
    ('33.18', 'Pati', 'KABUPATEN', 'Pati', -6.7559, 111.0380),
    ('33.19', 'Kudus', 'KABUPATEN', 'Kudus', -6.8048, 110.8405),
    ('33.20', 'Jepara', 'KABUPATEN', 'Jepara', -6.5924, 110.6710),
    ('33.21', 'Demak', 'KABUPATEN', 'Demak', -6.8909, 110.6396),
    ('33.22', 'Semarang', 'KABUPATEN', 'Ungaran', -7.1389, 110.4050),
    ('33.23', 'Temanggung', 'KABUPATEN', 'Temanggung', -7.3150, 110.1750),
    ('33.24', 'Kendal', 'KABUPATEN', 'Kendal', -6.9194, 110.2042),
    ('33.25', 'Batang', 'KABUPATEN', 'Batang', -6.9070, 109.7300),
    ('33.26', 'Pekalongan', 'KABUPATEN', 'Kajen', -7.0297, 109.5869),
    ('33.27', 'Pemalang', 'KABUPATEN', 'Pemalang', -6.8903, 109.3807),
    ('33.28', 'Tegal', 'KABUPATEN', 'Slawi', -6.9819, 109.1400),
    ('33.29', 'Brebes', 'KABUPATEN', 'Brebes', -6.8714, 109.0419),
    ('33.71', 'Magelang', 'KOTA', 'Magelang', -7.4797, 110.2177),
    ('33.72', 'Surakarta', 'KOTA', 'Surakarta', -7.5755, 110.8243),
    ('33.73', 'Salatiga', 'KOTA', 'Salatiga', -7.3305, 110.5084),
    ('33.74', 'Semarang', 'KOTA', 'Semarang', -6.9667, 110.4167),
    ('33.75', 'Pekalongan', 'KOTA', 'Pekalongan', -6.8886, 109.6753),
    ('33.76', 'Tegal', 'KOTA', 'Tegal', -6.8694, 109.1402);

INSERT INTO opds (slug, short_name, name, kind) VALUES
    ('dpubmck', 'DPUBMCK', 'Dinas Pekerjaan Umum Bina Marga dan Cipta Karya', 'DINAS'),
    ('pusdataru', 'PUSDATARU', 'Dinas Pekerjaan Umum Sumber Daya Air dan Penataan Ruang', 'DINAS'),
    ('disperakim', 'Disperakim', 'Dinas Perumahan Rakyat dan Kawasan Permukiman', 'DINAS'),
    ('disdikbud', 'Disdikbud', 'Dinas Pendidikan dan Kebudayaan', 'DINAS'),
    ('dinkes', 'Dinkes', 'Dinas Kesehatan', 'DINAS'),
    ('dinsos', 'Dinsos', 'Dinas Sosial', 'DINAS'),
    ('disnakertrans', 'Disnakertrans', 'Dinas Tenaga Kerja dan Transmigrasi', 'DINAS'),
    ('esdm', 'Dinas ESDM', 'Dinas Energi dan Sumber Daya Mineral', 'DINAS'),
    ('disporapar', 'Disporapar', 'Dinas Kepemudaan, Olahraga dan Pariwisata', 'DINAS'),
    ('dishub', 'Dishub', 'Dinas Perhubungan', 'DINAS'),
    ('diskominfo', 'Diskominfo', 'Dinas Komunikasi dan Informatika', 'DINAS'),
    ('disperindag', 'Disperindag', 'Dinas Perindustrian dan Perdagangan', 'DINAS'),
    ('dinkopukm', 'Dinkop UKM', 'Dinas Koperasi, Usaha Kecil dan Menengah', 'DINAS'),
    ('dpmptsp', 'DPMPTSP', 'Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu', 'DINAS'),
    ('distanbun', 'Distanbun', 'Dinas Pertanian dan Perkebunan', 'DINAS'),
    ('dishanpan', 'Dishanpan', 'Dinas Ketahanan Pangan', 'DINAS'),
    ('disnakkeswan', 'Disnakkeswan', 'Dinas Peternakan dan Kesehatan Hewan', 'DINAS'),
    ('dkp', 'DKP', 'Dinas Kelautan dan Perikanan', 'DINAS'),
    ('dlhk', 'DLHK', 'Dinas Lingkungan Hidup dan Kehutanan', 'DINAS'),
    ('dispermadesdukcapil', 'Dispermadesdukcapil', 'Dinas Pemberdayaan Masyarakat, Desa, Kependudukan dan Pencatatan Sipil', 'DINAS'),
    ('dp3ap2kb', 'DP3AP2KB', 'Dinas Pemberdayaan Perempuan, Perlindungan Anak, Pengendalian Penduduk dan Keluarga Berencana', 'DINAS'),
    ('dinarpus', 'Dinarpus', 'Dinas Kearsipan dan Perpustakaan', 'DINAS'),
    ('satpolpp', 'Satpol PP', 'Satuan Polisi Pamong Praja', 'SATPOL_PP'),
    ('bpbd', 'BPBD', 'Badan Penanggulangan Bencana Daerah', 'BADAN'),
    ('bapenda', 'Bapenda', 'Badan Pengelola Pendapatan Daerah', 'BADAN'),
    ('bkd', 'BKD', 'Badan Kepegawaian Daerah', 'BADAN'),
    ('bappeda', 'Bappeda', 'Badan Perencanaan Pembangunan Daerah', 'BADAN'),
    ('bpkad', 'BPKAD', 'Badan Pengelola Keuangan dan Aset Daerah', 'BADAN'),
    ('kesbangpol', 'Kesbangpol', 'Badan Kesatuan Bangsa dan Politik', 'BADAN'),
    ('inspektorat', 'Inspektorat', 'Inspektorat Provinsi Jawa Tengah', 'INSPEKTORAT'),
    ('setda', 'Setda', 'Sekretariat Daerah Provinsi Jawa Tengah', 'SEKRETARIAT');

INSERT INTO categories (code, name, name_en, default_opd_id)
SELECT v.code, v.name, v.name_en, opds.id FROM (VALUES
    ('JALAN', 'Jalan dan Jembatan', 'Roads and bridges', 'dpubmck'),
    ('AIR', 'Sumber Daya Air dan Banjir', 'Water resources and floods', 'pusdataru'),
    ('PERUMAHAN', 'Perumahan dan Permukiman', 'Housing and settlements', 'disperakim'),
    ('PENDIDIKAN', 'Pendidikan', 'Education', 'disdikbud'),
    ('KESEHATAN', 'Kesehatan', 'Health', 'dinkes'),
    ('SOSIAL', 'Bantuan Sosial', 'Social assistance', 'dinsos'),
    ('KETENAGAKERJAAN', 'Ketenagakerjaan', 'Labour', 'disnakertrans'),
    ('ENERGI', 'Energi dan Sumber Daya Mineral', 'Energy and mineral resources', 'esdm'),
    ('TRANSPORTASI', 'Transportasi', 'Transport', 'dishub'),
    ('LINGKUNGAN', 'Lingkungan Hidup', 'Environment', 'dlhk'),
    ('BENCANA', 'Kebencanaan', 'Disasters', 'bpbd'),
    ('KEPENDUDUKAN', 'Administrasi Kependudukan', 'Civil registration', 'dispermadesdukcapil'),
    ('PERIZINAN', 'Perizinan', 'Permits', 'dpmptsp'),
    ('PAJAK', 'Pajak Kendaraan dan Pendapatan', 'Vehicle tax and revenue', 'bapenda'),
    ('KETERTIBAN', 'Ketertiban Umum', 'Public order', 'satpolpp'),
    ('PERTANIAN', 'Pertanian dan Pupuk', 'Agriculture and fertiliser', 'distanbun'),
    ('PEREMPUAN_ANAK', 'Perempuan dan Anak', 'Women and children', 'dp3ap2kb'),
    ('ASN', 'Aparatur Sipil Negara', 'Civil servants'' conduct', 'inspektorat'),
    ('INFORMASI', 'Informasi Publik dan Lainnya', 'Public information and other', 'diskominfo')
) AS v (code, name, name_en, opd_slug) JOIN opds ON opds.slug = v.opd_slug;

-- Roads carry a shorter resolution promise than the province default: under Jalan Cantik a
-- pothole on a provincial road is patched within days, not weeks.
UPDATE categories SET resolution_hours = 72 WHERE code = 'JALAN';

INSERT INTO sla_policies (name, effective_from, response_hours, resolution_hours) VALUES
    ('Tindak lanjut 2x24 jam', '2014-01-01 00:00+07', 48, 336),
    ('Tindak lanjut 1x24 jam', '2019-01-01 00:00+07', 24, 168);
