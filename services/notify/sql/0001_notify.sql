-- ccip:oldest-compatible-code 1
-- notify: one inbox per person, and the e-mails and text messages that tell
-- people of it (issue 18). Names are unqualified: ccip_migrate sets
-- search_path to the schema. Landed migrations are never edited: add
-- 0002_... instead.

-- ---- the inbox (made from events only: notify.inbox.rebuild.v1 empties and
-- ---- refills these tables from the streams) --------------------------------

-- An item waiting for an addressee ("org:<USCC>", "expert:<id>", "role:staff",
-- ...). Its id is made from the event that made it (md5 of event id, slot and
-- addressee), so a replay makes the same ids. State OPEN until a settlement
-- with the same close_key at or after `since` exists (then DONE, closed_at =
-- the first such settlement); NOTICE items have no close_key.
CREATE TABLE item (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
    addressee text NOT NULL CHECK (addressee ~ '^[a-z]+:.+$'),
    service text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id text NOT NULL DEFAULT '',
    subject text NOT NULL DEFAULT '',
    detail text NOT NULL DEFAULT '',
    close_key text,
    state text NOT NULL CHECK (state IN ('OPEN', 'DONE', 'NOTICE')),
    since timestamptz NOT NULL,
    due timestamptz,
    closed_at timestamptz,
    closed_by text,
    event_id uuid NOT NULL,
    CHECK ((state = 'NOTICE') = (close_key IS NULL)),
    CHECK ((state = 'DONE') = (closed_at IS NOT NULL))
);
-- Reads: one addressee's items, newest first (keyset paging on since, id).
CREATE INDEX item_addressee ON item (addressee, since DESC, id DESC);
CREATE INDEX item_close_key ON item (close_key) WHERE close_key IS NOT NULL;

-- Every settling event: which close_key it settles, and when.
CREATE TABLE settlement (
    close_key text NOT NULL,
    at timestamptz NOT NULL,
    event_type text NOT NULL,
    event_id uuid NOT NULL,
    PRIMARY KEY (close_key, event_id)
);

-- What an item needs to know that its event does not say, as earlier events
-- of the same producer said it, kept with their positions: kind 'owner' (the
-- parties owning work <key>: every row of the highest position counts),
-- 'operator' (of roster entry <key>), 'grantee' (of award <key>), 'title'
-- (of object <type>:<id>). An item looks up the value at the highest
-- position at or before its own event's, so it finds what it would have
-- found applied alone, however many events a replay writes at once.
CREATE TABLE lookup (
    kind text NOT NULL CHECK (kind IN ('owner', 'operator', 'grantee', 'title')),
    key text NOT NULL,
    position bigint NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (kind, key, position, value)
);

-- ---- people (the gateway's account events) ---------------------------------

CREATE TABLE person (
    account_id text PRIMARY KEY,
    login text NOT NULL UNIQUE,
    name text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    mobile text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What an account acts as: its actor id and roles (gateway's bindings).
CREATE TABLE binding (
    binding_id text PRIMARY KEY,
    account_id text NOT NULL,
    actor_id text NOT NULL,
    roles text[] NOT NULL,
    status text NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REVOKED'))
);
CREATE INDEX binding_actor ON binding (actor_id) WHERE status = 'ACTIVE';
CREATE INDEX binding_roles ON binding USING gin (roles) WHERE status = 'ACTIVE';

-- ---- preferences (set by the people themselves; not made from events) ------

CREATE TABLE preference (
    account_id text PRIMARY KEY,
    language text NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
    quiet_start smallint CHECK (quiet_start BETWEEN 0 AND 1439),  -- minute of the day, Beijing
    quiet_end smallint CHECK (quiet_end BETWEEN 0 AND 1439),
    digest boolean NOT NULL DEFAULT false,
    digest_minute smallint NOT NULL DEFAULT 480 CHECK (digest_minute BETWEEN 0 AND 1439),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT '',
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- Channels per kind of item; kind '*' = every kind not listed.
CREATE TABLE preference_kind (
    account_id text NOT NULL,
    kind text NOT NULL CHECK (kind = '*' OR kind ~ '^[a-z][a-z0-9_]{0,39}$'),
    email boolean NOT NULL,
    sms boolean NOT NULL,
    PRIMARY KEY (account_id, kind)
);

-- ---- deliveries (written in the item's transaction; kept by a rebuild) ------

-- One per (item, account, channel), made when the item is new; a digest is a
-- delivery of its own (item_id NULL) that the items' DIGESTED deliveries
-- point to. The sender claims due PENDING rows (and SENDING rows whose lease
-- ran out: a sender died after sending, before recording), sends with the
-- delivery id as Message-ID / idempotency key, and records the outcome.
CREATE TABLE delivery (
    id uuid PRIMARY KEY,
    -- deferred: a rebuild deletes and makes the items again in one transaction
    item_id uuid REFERENCES item (id) DEFERRABLE INITIALLY DEFERRED,
    account_id text NOT NULL,
    login text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('EMAIL', 'SMS')),
    address text NOT NULL,
    name text NOT NULL DEFAULT '',
    language text NOT NULL CHECK (language IN ('zh-CN', 'en')),
    state text NOT NULL CHECK (state IN ('PENDING', 'SENDING', 'SENT', 'FAILED', 'DIGEST',
                                         'DIGESTED')),
    attempts integer NOT NULL DEFAULT 0,
    due_at timestamptz NOT NULL,
    lease_until timestamptz,
    sent_at timestamptz,
    error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    digest_id uuid REFERENCES delivery (id),
    digest_items integer NOT NULL DEFAULT 0,
    replaces uuid REFERENCES delivery (id),
    note text NOT NULL DEFAULT '',
    CHECK ((item_id IS NULL) = (digest_items > 0)),
    CHECK ((state = 'DIGESTED') = (digest_id IS NOT NULL))
);
-- Exactly one first delivery per (item, account, channel); a resend is a new
-- row that names the failed one it replaces.
CREATE UNIQUE INDEX delivery_once ON delivery (item_id, account_id, channel)
    WHERE replaces IS NULL AND item_id IS NOT NULL;
CREATE INDEX delivery_due ON delivery (due_at) WHERE state IN ('PENDING', 'SENDING');
CREATE INDEX delivery_digest ON delivery (account_id, channel, due_at) WHERE state = 'DIGEST';
CREATE INDEX delivery_item ON delivery (item_id);
