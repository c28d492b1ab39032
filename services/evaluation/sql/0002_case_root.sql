-- ccip:oldest-compatible-code 1
-- Every case knows the root id of the case it belongs to across services
-- (common/ccip_command.h, "cases"): intake's application id, or the root of
-- the earlier case that application continues. It comes with the accepted
-- application (ApplicationAccepted.case_root); code of version 1 opens
-- cases without it, and the trigger then takes the application id, which
-- is what every case opened before this migration has.
ALTER TABLE case_file ADD COLUMN case_root uuid;
UPDATE case_file SET case_root = application_id;

CREATE FUNCTION case_file_case_root() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.case_root := coalesce(NEW.case_root, NEW.application_id);
    RETURN NEW;
END $$;
CREATE TRIGGER case_file_case_root BEFORE INSERT ON case_file
    FOR EACH ROW EXECUTE FUNCTION case_file_case_root();

ALTER TABLE case_file ALTER COLUMN case_root SET NOT NULL;
CREATE INDEX case_file_case_root ON case_file (case_root);
