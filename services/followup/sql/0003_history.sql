-- ccip:oldest-compatible-code 1
-- History the runtime role may only add to and read (common/sql/0006_history.sql):
-- every deadline a task had, every step of its life, its reports and their
-- attachments, and the escalations raised to the office. followup only ever
-- inserts into them (escalations with ON CONFLICT DO NOTHING, which needs no
-- UPDATE right).
SELECT ccip_history(ARRAY['task_deadline', 'task_step', 'task_report', 'task_attachment',
                          'escalation']);
