-- ccip:oldest-compatible-code 1
-- ip may lift the freeze of an upheld dispute (ip.dispute.lifted.v1): the
-- hold it put on the tranches of awards using the work is released, kept
-- with when and why. Code older than this migration keeps treating every
-- hold as in force (it does not read the columns), which errs on the side
-- of not paying.
ALTER TABLE work_hold
    ADD COLUMN released_at timestamptz,
    ADD COLUMN release_event_id text,
    ADD COLUMN release_reasons text NOT NULL DEFAULT '';
