-- ccip:oldest-compatible-code 1
-- Every application knows its case (common/ccip_command.h, "cases"): the
-- root id every service's events about it carry as their correlation. It
-- is the application's own id, or the root of an earlier case of the same
-- organisation that it continues (DraftApplicationRequest.continues_case).
-- Code of version 1 inserts applications without it: the trigger gives
-- them their own id, so that code keeps working (expand only).
ALTER TABLE application ADD COLUMN case_root uuid;
UPDATE application SET case_root = id;

CREATE FUNCTION application_case_root() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.case_root := coalesce(NEW.case_root, NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER application_case_root BEFORE INSERT ON application
    FOR EACH ROW EXECUTE FUNCTION application_case_root();

ALTER TABLE application ALTER COLUMN case_root SET NOT NULL,
    ADD CONSTRAINT application_case_root_fk FOREIGN KEY (case_root) REFERENCES application (id);
CREATE INDEX application_case_root ON application (case_root);
