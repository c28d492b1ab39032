-- ccip:oldest-compatible-code 1
-- What probea's emit command wrote: one row per event it appended.
CREATE TABLE emitted (
    n bigserial PRIMARY KEY,
    tag text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
