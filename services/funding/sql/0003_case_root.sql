-- ccip:oldest-compatible-code 1
-- Every award knows the root id of its case across services
-- (common/ccip_command.h, "cases"), the correlation of every event about
-- it. It comes with the decision (DecisionMade.case_root); code of version
-- 1 proposes awards without it, and the trigger then takes the application
-- id, which is what every award proposed before this migration has.
ALTER TABLE award ADD COLUMN case_root uuid;
UPDATE award SET case_root = application_id;

CREATE FUNCTION award_case_root() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.case_root := coalesce(NEW.case_root, NEW.application_id);
    RETURN NEW;
END $$;
CREATE TRIGGER award_case_root BEFORE INSERT ON award
    FOR EACH ROW EXECUTE FUNCTION award_case_root();

ALTER TABLE award ALTER COLUMN case_root SET NOT NULL;
CREATE INDEX award_case_root ON award (case_root);
