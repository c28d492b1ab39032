-- ccip:oldest-compatible-code 1
-- A designation is valid until its valid_until: the entry reports up to the
-- quarter (Beijing time) that date falls in, and is not asked after it. The
-- column is that quarter, kept beside last_quarter (a revocation's), so the
-- roster's "active in quarter Q" stays a comparison of texts. Rows written
-- before this migration get it from valid_until (the same UTC+8 quarter
-- stats_quarter_of_us computes).
ALTER TABLE roster_entry ADD COLUMN expiry_quarter text
    CHECK (expiry_quarter ~ '^[0-9]{4}Q[1-4]$');
UPDATE roster_entry
   SET expiry_quarter = to_char(valid_until AT TIME ZONE 'UTC' + interval '8 hours', 'YYYY"Q"Q')
 WHERE valid_until IS NOT NULL;
