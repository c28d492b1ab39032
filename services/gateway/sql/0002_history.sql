-- ccip:oldest-compatible-code 1
-- The audit of sign-ins, password and binding changes, which the runtime role
-- may only add to and read (common/sql/0006_history.sql): its append-only
-- trigger can no longer be switched off by the role it guards against.
SELECT ccip_history(ARRAY['audit']);
