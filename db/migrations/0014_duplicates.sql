-- Duplicates (issue 13): a new complaint is compared with the open ones of the same category
-- (or region) created near it in time and place. The time window and the category or region
-- narrow the candidates to a few hundred even on a million rows; trigram similarity and the
-- distance are then computed on those alone.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- complaints_text_trgm (0003) already indexes the text for `%` searches; the duplicate search
-- reaches its candidates through these instead, open complaints only.
CREATE INDEX complaints_open_category_created ON complaints (category_code, created_at)
    WHERE status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS');
CREATE INDEX complaints_open_region_created ON complaints (region_code, created_at)
    WHERE status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS');
-- Nearby reports on a map (earth_box(ll_to_earth(…), metres) @> ll_to_earth(lat, lon)).
CREATE INDEX complaints_location_earth ON complaints USING gist (ll_to_earth(lat, lon))
    WHERE lat IS NOT NULL;
-- The complaints that follow an original (merged into it), told when it is resolved.
CREATE INDEX complaints_duplicate_of ON complaints (duplicate_of_id)
    WHERE duplicate_of_id IS NOT NULL;

-- The likely duplicates of one complaint, best first: open complaints other than itself created
-- within `window_hours` of it, of its category (or of none, in its region; any category in its
-- region when it has none), within `distance_km` when both have a location, whose text is at
-- least `min_similarity` alike (pg_trgm). The score is the text's similarity (0.7 of it),
-- nearness within the distance (0.2) and a shared category (0.1), rounded to 3 places. One
-- function for the API's two paths (db/duplicates.py, compiler/duplicates.py) and intake.
CREATE FUNCTION kilas_duplicate_candidates(
    target bigint, window_hours double precision, distance_km double precision,
    min_similarity double precision, max_count integer)
RETURNS TABLE (complaint_id bigint, score double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.id, round((0.7 * s.similarity + 0.2 * s.nearness + 0.1 * s.same_category)::numeric,
        3)::double precision AS score
    FROM complaints t
    CROSS JOIN LATERAL (
        SELECT n.id, n.created_at, similarity(n.text, t.text) AS similarity, n.nearness,
            n.same_category
        FROM (
            -- Time, category or region, and place first (OFFSET 0 keeps the trigram
            -- comparison, the costly part, out of this scan: it runs on what is left).
            SELECT c.id, c.created_at, c.text,
                CASE WHEN t.lat IS NULL OR c.lat IS NULL THEN 0
                    ELSE greatest(0, 1 - earth_distance(ll_to_earth(t.lat, t.lon),
                        ll_to_earth(c.lat, c.lon)) / (distance_km * 1000)) END AS nearness,
                CASE WHEN c.category_code = t.category_code THEN 1 ELSE 0 END AS same_category
            FROM complaints c
            WHERE c.status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS')
              AND c.created_at BETWEEN t.created_at - make_interval(secs => window_hours * 3600)
                  AND t.created_at + make_interval(secs => window_hours * 3600)
              AND c.id <> t.id
              AND (c.category_code = t.category_code
                  OR (c.region_code = t.region_code
                      AND (t.category_code IS NULL OR c.category_code IS NULL)))
              AND (t.lat IS NULL OR c.lat IS NULL
                  OR earth_box(ll_to_earth(t.lat, t.lon), distance_km * 1000)
                      @> ll_to_earth(c.lat, c.lon)
                  AND earth_distance(ll_to_earth(t.lat, t.lon), ll_to_earth(c.lat, c.lon))
                      <= distance_km * 1000)
            OFFSET 0
        ) n
        WHERE similarity(n.text, t.text) >= min_similarity
    ) s
    WHERE t.id = target
    ORDER BY 2 DESC, s.created_at, s.id
    LIMIT max_count
$$;

-- A merged complaint's citizen is told it was merged, and told again when the original is
-- resolved, on their own channel.
ALTER TABLE reply_templates DROP CONSTRAINT reply_templates_event_type_check;
ALTER TABLE reply_templates ADD CONSTRAINT reply_templates_event_type_check CHECK (event_type IN (
    'SUBMITTED', 'ASSIGNED', 'FOLLOWED_UP', 'RESOLVED', 'REJECTED', 'MERGED',
    'ORIGINAL_RESOLVED'));
INSERT INTO reply_templates (event_type, text) VALUES
    ('MERGED', 'Laporan Anda ({nomor}) sama dengan laporan warga lain yang sedang '
               'ditangani; kami kabari Anda begitu masalahnya selesai.'),
    ('ORIGINAL_RESOLVED', 'Masalah yang Anda laporkan ({nomor}) sudah diselesaikan. '
                          'Terima kasih atas laporan Anda.');
