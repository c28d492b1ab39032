-- ccip:oldest-compatible-code 1
-- Every award and designation followup keeps knows the case it belongs to
-- (common/ccip_command.h, "cases"): the award's and designation's own
-- case_root, as funding and evaluation publish them. A key project is in
-- the case of its award or designation, and its events carry that root id
-- as their correlation, so that casefile shows the project's registration,
-- milestones, monthly reports and escalations on the case's timeline.
-- Rows kept before this migration have none (NULL) until their next event;
-- their projects' events then belong to no case, as before.
ALTER TABLE award ADD COLUMN case_root uuid;
ALTER TABLE designation ADD COLUMN case_root uuid;
