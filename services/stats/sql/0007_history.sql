-- ccip:oldest-compatible-code 1
-- History the runtime role may only add to and read (common/sql/0006_history.sql).
SELECT ccip_history(ARRAY['roster_history', 'report_transition', 'value_audit']);
