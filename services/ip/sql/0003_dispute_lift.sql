-- ccip:oldest-compatible-code 1
-- An upheld dispute's freeze can be lifted (the ruling was overturned on
-- appeal, or the parties settled): who, when and why are kept on the
-- dispute, whose status stays UPHELD. Older code ignores the columns.
ALTER TABLE dispute
    ADD COLUMN lifted_at_us bigint,
    ADD COLUMN lifted_by text NOT NULL DEFAULT '',
    ADD COLUMN lift_reasons text NOT NULL DEFAULT '';
