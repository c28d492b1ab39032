-- ccip:oldest-compatible-code 1
-- The quarterly reports operators were told are due (stats_due.h), one row
-- per entry and quarter: stats.report.due.v1 is published with the row's
-- insert, so every entry hears it once per quarter however often the
-- scheduled stats.report.remind.v1 runs.
CREATE TABLE report_notice (
    roster_id text NOT NULL REFERENCES roster_entry,
    quarter text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    noticed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (roster_id, quarter)
);
