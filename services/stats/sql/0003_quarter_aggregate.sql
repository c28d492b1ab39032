-- ccip:oldest-compatible-code 1
-- The analysis's sums, kept as the accepted values change: one row per
-- quarter, district, category and indicator. A trigger subtracts a value's
-- old contribution and adds its new one on every insert, update and delete
-- of report_value, so the sums are linear in the values and always equal
-- a GROUP BY over them (quarter_aggregate_refresh() recomputes them that way;
-- tests/integration/test_stats.c compares the two). The analysis of a
-- quarter then reads a few thousand rows instead of every value.

CREATE TABLE quarter_aggregate (
    quarter text NOT NULL,
    district_code text NOT NULL,
    category text NOT NULL,
    code text NOT NULL,
    value bigint NOT NULL,      -- sum of the accepted values
    reporting integer NOT NULL, -- how many
    qoq_cur bigint NOT NULL,    -- sum of those whose entry has an accepted value the quarter before
    qoq_base bigint NOT NULL,   -- sum of those previous values
    qoq_panel integer NOT NULL, -- how many
    yoy_cur bigint NOT NULL,    -- the same against the same quarter a year before
    yoy_base bigint NOT NULL,
    yoy_panel integer NOT NULL,
    PRIMARY KEY (quarter, district_code, category, code)
);

-- Adds (sign 1) or takes away (sign -1) one value's contribution.
CREATE FUNCTION quarter_aggregate_add(r report_value, sign integer) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT r.accepted THEN
        RETURN;
    END IF;
    INSERT INTO quarter_aggregate AS a (quarter, district_code, category, code, value, reporting,
                                        qoq_cur, qoq_base, qoq_panel, yoy_cur, yoy_base,
                                        yoy_panel)
    VALUES (r.quarter, coalesce(r.district_code, ''), coalesce(r.category, ''), r.code,
            sign * r.value, sign,
            CASE WHEN r.prev_value IS NOT NULL THEN sign * r.value ELSE 0 END,
            sign * coalesce(r.prev_value, 0),
            CASE WHEN r.prev_value IS NOT NULL THEN sign ELSE 0 END,
            CASE WHEN r.yoy_value IS NOT NULL THEN sign * r.value ELSE 0 END,
            sign * coalesce(r.yoy_value, 0),
            CASE WHEN r.yoy_value IS NOT NULL THEN sign ELSE 0 END)
    ON CONFLICT (quarter, district_code, category, code) DO UPDATE SET
        value = a.value + EXCLUDED.value,
        reporting = a.reporting + EXCLUDED.reporting,
        qoq_cur = a.qoq_cur + EXCLUDED.qoq_cur,
        qoq_base = a.qoq_base + EXCLUDED.qoq_base,
        qoq_panel = a.qoq_panel + EXCLUDED.qoq_panel,
        yoy_cur = a.yoy_cur + EXCLUDED.yoy_cur,
        yoy_base = a.yoy_base + EXCLUDED.yoy_base,
        yoy_panel = a.yoy_panel + EXCLUDED.yoy_panel;
END $$;

CREATE FUNCTION report_value_aggregate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.value = OLD.value AND NEW.accepted = OLD.accepted
       AND NEW.prev_value IS NOT DISTINCT FROM OLD.prev_value
       AND NEW.yoy_value IS NOT DISTINCT FROM OLD.yoy_value
       AND NEW.district_code IS NOT DISTINCT FROM OLD.district_code
       AND NEW.category IS NOT DISTINCT FROM OLD.category THEN
        RETURN NULL; -- an explanation changed
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM quarter_aggregate_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM quarter_aggregate_add(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER report_value_aggregate AFTER INSERT OR UPDATE OR DELETE ON report_value
    FOR EACH ROW EXECUTE FUNCTION report_value_aggregate();

-- Recomputes every sum from the values (after a bulk load with the
-- triggers off). The same GROUP BY the tests compare the table with.
CREATE FUNCTION quarter_aggregate_refresh() RETURNS void LANGUAGE sql AS $$
    DELETE FROM quarter_aggregate;
    INSERT INTO quarter_aggregate
    SELECT quarter, coalesce(district_code, ''), coalesce(category, ''), code,
           isum(value), count(*),
           coalesce(isum(value) FILTER (WHERE prev_value IS NOT NULL), 0),
           coalesce(isum(prev_value), 0), count(prev_value),
           coalesce(isum(value) FILTER (WHERE yoy_value IS NOT NULL), 0),
           coalesce(isum(yoy_value), 0), count(yoy_value)
    FROM report_value WHERE accepted
    GROUP BY quarter, coalesce(district_code, ''), coalesce(category, ''), code;
$$;

SELECT quarter_aggregate_refresh();
