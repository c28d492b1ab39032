-- ccip:oldest-compatible-code 1
-- The analysis in one scan of one table: every value carries the same
-- entry's accepted value of the indicator in the previous quarter and a year
-- before, kept by the triggers below, so like-for-like growth needs no join
-- of three quarters (scripts/bench stats: analysis against a plain scan).

-- Each value also carries its entry's district and category, so that the
-- analysis groups one table (roster_entry's district never changes; a new
-- category is copied by stats.roster.categorise.v1).
ALTER TABLE report_value
    ADD COLUMN prev_value bigint,    -- accepted value of (roster_id, code) in the previous quarter
    ADD COLUMN yoy_value bigint,     -- ... in the same quarter a year before
    ADD COLUMN district_code text,   -- the entry's
    ADD COLUMN category text;        -- the entry's

-- Finding a value's neighbours.
CREATE INDEX report_value_entry ON report_value (roster_id, code, quarter);

-- The analysis reads a quarter's values from this index alone.
DROP INDEX report_value_quarter;
CREATE INDEX report_value_quarter ON report_value (quarter)
    INCLUDE (code, value, accepted, prev_value, yoy_value, district_code, category);

-- "2026Q3" moved by n quarters: quarter_add('2026Q1', -1) = '2025Q4'.
CREATE FUNCTION quarter_add(q text, n integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ((substr(q, 1, 4)::integer * 4 + substr(q, 6, 1)::integer - 1 + n) / 4)::text || 'Q' ||
           ((substr(q, 1, 4)::integer * 4 + substr(q, 6, 1)::integer - 1 + n) % 4 + 1)::text
$$;

-- A sum of bigints that stays bigint (an overflow is an error, never a wrap):
-- sum(bigint) accumulates in numeric, several times slower.
CREATE AGGREGATE isum(bigint) (sfunc = int8pl, stype = bigint);

-- A new value takes its entry's district and category and its neighbours'
-- accepted values.
CREATE FUNCTION report_value_own_neighbours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT district_code, category INTO NEW.district_code, NEW.category FROM roster_entry
    WHERE id = NEW.roster_id;
    SELECT value INTO NEW.prev_value FROM report_value
    WHERE roster_id = NEW.roster_id AND code = NEW.code
      AND quarter = quarter_add(NEW.quarter, -1) AND accepted;
    SELECT value INTO NEW.yoy_value FROM report_value
    WHERE roster_id = NEW.roster_id AND code = NEW.code
      AND quarter = quarter_add(NEW.quarter, -4) AND accepted;
    RETURN NEW;
END $$;

CREATE TRIGGER report_value_own_neighbours BEFORE INSERT ON report_value
    FOR EACH ROW EXECUTE FUNCTION report_value_own_neighbours();

-- A value accepted, corrected or removed tells the next quarter's and the
-- next year's value of the same entry and indicator. (These updates set
-- only prev_value and yoy_value, so they do not fire this trigger again.)
CREATE FUNCTION report_value_tell_neighbours() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r report_value;
    v bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
        v := NULL;
    ELSE
        r := NEW;
        v := CASE WHEN NEW.accepted THEN NEW.value END;
    END IF;
    UPDATE report_value SET prev_value = v
    WHERE roster_id = r.roster_id AND code = r.code AND quarter = quarter_add(r.quarter, 1)
      AND prev_value IS DISTINCT FROM v;
    UPDATE report_value SET yoy_value = v
    WHERE roster_id = r.roster_id AND code = r.code AND quarter = quarter_add(r.quarter, 4)
      AND yoy_value IS DISTINCT FROM v;
    RETURN NULL;
END $$;

CREATE TRIGGER report_value_tell_neighbours
    AFTER INSERT OR DELETE OR UPDATE OF value, accepted ON report_value
    FOR EACH ROW EXECUTE FUNCTION report_value_tell_neighbours();

-- The values stored before this migration.
UPDATE report_value v SET district_code = e.district_code, category = e.category
FROM roster_entry e WHERE e.id = v.roster_id;
UPDATE report_value v SET prev_value = p.value FROM report_value p
WHERE p.roster_id = v.roster_id AND p.code = v.code AND p.quarter = quarter_add(v.quarter, -1)
  AND p.accepted;
UPDATE report_value v SET yoy_value = p.value FROM report_value p
WHERE p.roster_id = v.roster_id AND p.code = v.code AND p.quarter = quarter_add(v.quarter, -4)
  AND p.accepted;
