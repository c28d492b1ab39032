-- ccip:oldest-compatible-code 1
-- What probea's note command wrote (its batch handler): one row per tag.
-- The CHECK lets a test make one command of a batch fail in PostgreSQL.
CREATE TABLE noted (
    tag text PRIMARY KEY CHECK (tag NOT LIKE 'fail%'),
    command_id text NOT NULL
);
