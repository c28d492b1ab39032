-- ccip:oldest-compatible-code 1
-- gateway: accounts of people, the role bindings they hold, their sessions,
-- sign-in throttling, one-time tokens (invitations, password resets) and the
-- audit of every sign-in and binding change. Enumerations are stored as the
-- names of the proto enum values (proto/ccip/gateway.proto).

CREATE TABLE account (
    id uuid PRIMARY KEY,
    login text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    name text NOT NULL CHECK (name <> ''),
    email text NOT NULL CHECK (email <> ''),
    mobile text NOT NULL DEFAULT '',
    -- argon2id, in libsodium's crypto_pwhash_str format (parameters and salt included)
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- RFC 6238 secret (20 random bytes); in force once confirmed
    totp_secret bytea,
    totp_confirmed boolean NOT NULL DEFAULT false,
    -- the last time step a code was accepted for: a code is good once
    totp_last_step bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT totp_confirmed OR totp_secret IS NOT NULL)
);
CREATE UNIQUE INDEX account_email ON account (lower(email));

CREATE TABLE binding (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES account (id),
    kind text NOT NULL
        CHECK (kind IN ('ORGANISATION', 'STAFF', 'FINANCE', 'EXPERT', 'AGENCY', 'OFFICE',
                        'ANALYST', 'DISTRICT', 'ADMIN')),
    -- USCC, expert id, agency id or district code; '' for person-level kinds
    subject text NOT NULL DEFAULT '',
    status text NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REVOKED')),
    -- a pending organisation binding that registered the organisation: the
    -- one confirmed when staff verify it (other claims of it are not)
    registered_at timestamptz,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    reason text NOT NULL DEFAULT '',
    CHECK ((status = 'REVOKED') = (revoked_at IS NOT NULL)),
    CHECK (status <> 'PENDING' OR kind = 'ORGANISATION'),
    CHECK ((kind IN ('ORGANISATION', 'EXPERT', 'AGENCY', 'DISTRICT')) = (subject <> ''))
);
-- An account holds a binding once (a revoked one may be granted again).
CREATE UNIQUE INDEX binding_live ON binding (account_id, kind, subject)
    WHERE status <> 'REVOKED';
CREATE INDEX binding_subject ON binding (kind, subject) WHERE status <> 'REVOKED';

-- Sessions: the token itself is only ever in the person's cookie; the table
-- keeps its SHA-256.
CREATE TABLE session (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id uuid NOT NULL REFERENCES account (id),
    active_binding uuid REFERENCES binding (id),
    -- signed in (or confirmed) with TOTP: bindings that need it may act
    second_factor boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    client_addr text NOT NULL DEFAULT ''
);
CREATE INDEX session_account ON session (account_id) WHERE ended_at IS NULL;

-- Sign-in failures in a row, per key ('login:<login>' or 'addr:<address>'),
-- shared by every replica of the gateway.
CREATE TABLE signin_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    -- no attempt is checked before this time (the delay, or the lock)
    not_before timestamptz NOT NULL DEFAULT now()
);

-- One-time tokens: invitations to hold a binding, password resets. Only the
-- SHA-256 of the token is kept.
CREATE TABLE one_time_token (
    id uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    purpose text NOT NULL CHECK (purpose IN ('INVITATION', 'PASSWORD_RESET')),
    -- invitations: the binding offered and whom to
    email text NOT NULL DEFAULT '',
    kind text,
    subject text NOT NULL DEFAULT '',
    -- password resets: whose password
    account_id uuid REFERENCES account (id),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    used_by uuid REFERENCES account (id),
    CHECK ((purpose = 'INVITATION') = (kind IS NOT NULL)),
    CHECK ((purpose = 'PASSWORD_RESET') = (account_id IS NOT NULL))
);

-- Every sign-in, failure, sign-out, password or contact change and binding
-- change. Append-only.
CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL,
    outcome text NOT NULL,
    -- the account concerned (NULL: an unknown login) and the login as typed
    account_id uuid,
    login text NOT NULL DEFAULT '',
    -- who did it: the account itself ("self"), or the actor of a bus command
    actor text NOT NULL DEFAULT '',
    client_addr text NOT NULL DEFAULT '',
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_account ON audit (account_id, at);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the gateway audit is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
