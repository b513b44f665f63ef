-- The compiled read path's formatters (0010) inlined into the statements that call them.
-- PostgreSQL inlines a SQL function into the calling query only when nothing in its body is
-- non-strict where the function claims STRICT, and a CASE is non-strict: kilas_wib,
-- kilas_utc_iso and kilas_float ran as a function call per value (a 50-row list: 50 calls of
-- kilas_wib, each with its own executor start), about a quarter of the statement's time.
-- Without STRICT each gives NULL for NULL as before (to_char, extract and to_json of NULL are
-- NULL, and so is anything concatenated with them), and is inlined.
ALTER FUNCTION kilas_wib(timestamptz) CALLED ON NULL INPUT;
ALTER FUNCTION kilas_utc_iso(timestamptz) CALLED ON NULL INPUT;
ALTER FUNCTION kilas_float(double precision) CALLED ON NULL INPUT;
