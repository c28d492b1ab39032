-- ccip:oldest-compatible-code 1
-- The quarters whose every expected report the center has accepted, one
-- row each: stats.quarter.completed.v1 is published with the row's insert,
-- so a quarter is said complete once even when an entry added later makes
-- it complete again (stats_approval.c).
CREATE TABLE quarter_completed (
    quarter text PRIMARY KEY,
    reports integer NOT NULL,
    completed_at timestamptz NOT NULL DEFAULT now(),
    completed_by text NOT NULL
);
