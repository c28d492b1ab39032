-- ccip:oldest-compatible-code 1
-- Each case's timeline, which the runtime role may only add to and read
-- (common/sql/0006_history.sql): casefile inserts a step once per event
-- (ON CONFLICT DO NOTHING, which needs no UPDATE right) and never changes
-- or deletes one. The case records and objects it keeps current stay
-- writable: they are the latest state, not history.
SELECT ccip_history(ARRAY['step']);
