-- Duplicates (issue 13), by place: where either complaint has no location, "near" means the
-- same regency or city (every complaint has one), not anywhere in the province. 0014 compared a
-- complaint without a location with every open one of its category in the window, province-wide
-- (~1,500 texts for JALAN on a million complaints, ~45 ms at p95), and offered complaints from
-- the other end of the province as duplicates. Two index paths now reach the candidates: the
-- open complaints of the target's region in the window (any place), and, for a target with a
-- location, the open ones of its category in the window elsewhere, kept only when within the
-- distance. Trigram similarity then runs on what is left (~100 texts).
CREATE OR REPLACE FUNCTION kilas_duplicate_candidates(
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
            SELECT c.id, c.created_at, c.text,
                CASE WHEN t.lat IS NULL OR c.lat IS NULL THEN 0
                    ELSE greatest(0, 1 - earth_distance(ll_to_earth(t.lat, t.lon),
                        ll_to_earth(c.lat, c.lon)) / (distance_km * 1000)) END AS nearness,
                CASE WHEN c.category_code = t.category_code THEN 1 ELSE 0 END AS same_category
            FROM (
                -- Its region: of its category, or either without one; within the distance
                -- when both have a location.
                SELECT c.* FROM complaints c
                WHERE c.region_code = t.region_code
                  AND c.status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS')
                  AND c.created_at BETWEEN t.created_at - make_interval(secs => window_hours * 3600)
                      AND t.created_at + make_interval(secs => window_hours * 3600)
                  AND (c.category_code = t.category_code
                      OR t.category_code IS NULL OR c.category_code IS NULL)
                  AND (t.lat IS NULL OR c.lat IS NULL
                      OR abs(c.lat - t.lat) <= distance_km / 110.5
                      AND earth_distance(ll_to_earth(t.lat, t.lon), ll_to_earth(c.lat, c.lon))
                          <= distance_km * 1000)
                UNION ALL
                -- Across a border: of its category, both with a location, within the distance.
                SELECT c.* FROM complaints c
                WHERE t.lat IS NOT NULL AND t.category_code IS NOT NULL
                  AND c.category_code = t.category_code
                  AND c.status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS')
                  AND c.created_at BETWEEN t.created_at - make_interval(secs => window_hours * 3600)
                      AND t.created_at + make_interval(secs => window_hours * 3600)
                  AND c.region_code <> t.region_code
                  -- A box in degrees first (plain comparisons), the great-circle distance on what is in it.
                  AND c.lat BETWEEN t.lat - distance_km / 110.5 AND t.lat + distance_km / 110.5
                  AND c.lon BETWEEN t.lon - distance_km / (110.5 * greatest(cos(radians(t.lat)), 0.01))
                      AND t.lon + distance_km / (110.5 * greatest(cos(radians(t.lat)), 0.01))
                  AND earth_distance(ll_to_earth(t.lat, t.lon), ll_to_earth(c.lat, c.lon))
                      <= distance_km * 1000
            ) c
            WHERE c.id <> t.id
            -- OFFSET 0 keeps the trigram comparison, the costly part, out of these scans: it
            -- runs on what is left.
            OFFSET 0
        ) n
        WHERE similarity(n.text, t.text) >= min_similarity
    ) s
    WHERE t.id = target
    ORDER BY 2 DESC, s.created_at, s.id
    LIMIT max_count
$$;
