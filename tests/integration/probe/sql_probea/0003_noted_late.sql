-- ccip:oldest-compatible-code 1
-- A check that runs at COMMIT (a deferred constraint trigger), so a test can
-- make one command's transaction fail only when it commits: tags starting
-- with 'late-fail' are refused then.
CREATE FUNCTION noted_late_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tag LIKE 'late-fail%' THEN
        RAISE EXCEPTION 'tag % is refused at commit', NEW.tag;
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER noted_late AFTER INSERT ON noted
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION noted_late_check();
