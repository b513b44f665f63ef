-- SQL functions of the compiled read path (compiler/): each formats a value exactly as the
-- field-by-field execution does in Python, so one statement can build a response's JSON.
-- STABLE, not IMMUTABLE: to_char and convert_to are stable, and a SQL function is inlined
-- into the query only when it claims no more than its body is.

-- wib(t).isoformat() (schema/ids.py): UTC+7, microseconds only when there are any.
CREATE FUNCTION kilas_wib(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char((t AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM t)::bigint % 1000000 <> 0
                THEN to_char(t AT TIME ZONE 'UTC', '.US') ELSE '' END
        || '+07:00'
$$;

-- A UTC datetime's isoformat(), as keyset cursors carry it.
CREATE FUNCTION kilas_utc_iso(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM t)::bigint % 1000000 <> 0
                THEN to_char(t AT TIME ZONE 'UTC', '.US') ELSE '' END
        || '+00:00'
$$;

-- A Float as Python's json writes it: an integral value keeps its ".0" (100.0, not 100), so
-- that a client decoding the number gets a float, as it does from the field-by-field path.
-- (Beyond 1e15 PostgreSQL writes an exponent where Python writes digits; both read back as the
-- same float.)
CREATE FUNCTION kilas_float(x double precision) RETURNS json
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN x = trunc(x) AND abs(x) < 1e15 THEN (x::text || '.0')::json
                ELSE to_json(x) END
$$;

-- URL-safe base64 without padding (PostgreSQL's encoder also breaks lines every 76 characters).
CREATE FUNCTION kilas_b64url(t text) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT rtrim(translate(encode(convert_to(t, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
$$;

-- to_global_id(type, key) (schema/ids.py).
CREATE FUNCTION kilas_gid(type_name text, key text) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT kilas_b64url(type_name || ':' || key)
$$;

-- Writes one personal-data read to the access log (as resolvers/permissions.py does) and
-- returns true, so that a compiled statement logs a read in the expression that returns it:
-- the row is written in the statement's own transaction, before any data leaves.
CREATE FUNCTION kilas_log_read(
    complaint bigint, field text, subject text, role text, opd bigint, address text,
    at timestamptz
) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    INSERT INTO personal_data_access
        (complaint_id, subject, role, opd_id, field, address, accessed_at)
    VALUES (complaint, subject, role, opd, field, address, at);
    SELECT true;
$$;
