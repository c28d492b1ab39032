-- ccip:oldest-compatible-code 1
-- Every roster entry knows the case it was designated in
-- (common/ccip_command.h, "cases"): its quarterly reports are part of that
-- case, and their events carry its root id as their correlation. It comes
-- with the designation (Designation.case_root, else its application id);
-- entries put on the roster before this migration have none (NULL), and
-- their reports' events then belong to no case.
-- (0006, not 0005: the surveys work adds 0005 on its own branch.)
ALTER TABLE roster_entry ADD COLUMN case_root uuid;
CREATE INDEX roster_entry_case_root ON roster_entry (case_root);
