-- ccip:oldest-compatible-code 1
-- The ledger and its history, which the runtime role may only add to and read
-- (common/sql/0006_history.sql).
SELECT ccip_history(ARRAY['journal_entry', 'journal_line', 'budget_change', 'recovery']);
