-- ccip:oldest-compatible-code 1
-- ip: the registry of works (with its hash chain), originality data, the
-- trading platform (listings, offers, contracts), disputes, and the
-- directory of service providers. Enumerations are stored as the names of
-- the proto enum values (proto/ccip/ip.proto); times of the chain are UTC
-- microseconds (they are hashed), money is bigint fen.

-- ---- the registration chain (services/ip/ip_chain.h) ------------------------

-- The chain's head, one row. A registration locks it FOR UPDATE as the very
-- last step of its transaction, so records are appended one at a time, in
-- order, gap-free, and the lock is held only for the append and the commit.
CREATE TABLE chain_head (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),  -- last record (0 = none)
    hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (length(hash) = 32)
);
INSERT INTO chain_head DEFAULT VALUES;

-- One record per registration: exactly the hashed fields, as hashed, and
-- the receipt's signature. Never updated or deleted (see the trigger); the
-- current state of a work (owners after a transfer, a freeze) lives in
-- `work` and friends.
CREATE TABLE chain (
    seq bigint PRIMARY KEY CHECK (seq >= 1),  -- = the registration's serial number
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    work_id uuid NOT NULL UNIQUE,
    kind text NOT NULL,
    title text NOT NULL,
    owner_parties text[] NOT NULL,   -- sorted by party (bytes), as hashed
    owner_shares integer[] NOT NULL, -- basis points, same order
    creators text[] NOT NULL,
    created_on text NOT NULL,        -- YYYY-MM-DD, as hashed
    content_sha256 bytea NOT NULL CHECK (length(content_sha256) = 32),
    registered_at_us bigint NOT NULL, -- trusted time: the database's clock under the head lock
    registrant text NOT NULL,
    key_id text NOT NULL,
    signature bytea NOT NULL CHECK (length(signature) = 64)
);

-- Append-only: an UPDATE or DELETE of a record is refused. (A database
-- owner can still disable this; `ccipctl ip audit-chain` is what catches
-- that.)
CREATE FUNCTION chain_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the registration chain is append-only: % of record % refused', TG_OP, OLD.seq;
END
$$;
CREATE TRIGGER chain_append_only BEFORE UPDATE OR DELETE ON chain
    FOR EACH ROW EXECUTE FUNCTION chain_append_only();

-- ---- works --------------------------------------------------------------------

-- A registered work's current state. Its chain record (same id) holds what
-- was registered.
CREATE TABLE work (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    title text NOT NULL,
    created_on date NOT NULL,
    -- identical content can be registered once: a second owner is refused,
    -- the same owner gets the first registration back
    content_sha256 bytea NOT NULL UNIQUE CHECK (length(content_sha256) = 32),
    registrant text NOT NULL,
    -- review of near-duplicates: '' = nothing to review
    review text NOT NULL DEFAULT '' CHECK (review IN ('', 'FLAGGED', 'CLEARED', 'CONFIRMED')),
    review_note text NOT NULL DEFAULT '',
    reviewed_by text NOT NULL DEFAULT '',
    -- the upheld dispute that froze the work (no listings, offers, contracts
    -- or settlements while set)
    frozen_by uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_review ON work (review) WHERE review = 'FLAGGED';

-- Current owners and their shares (basis points, adding up to 10000).
CREATE TABLE work_owner (
    work_id uuid NOT NULL REFERENCES work (id),
    party text NOT NULL,
    share_bp integer NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    PRIMARY KEY (work_id, party)
);
CREATE INDEX work_owner_party ON work_owner (party);

-- The content itself, when the registrant supplied it (size-limited).
CREATE TABLE work_content (
    work_id uuid PRIMARY KEY REFERENCES work (id),
    content bytea NOT NULL
);

-- MinHash signature of a text content (services/ip/ip_similarity.h) and its
-- LSH band keys, by which near-duplicates are found.
CREATE TABLE work_minhash (
    work_id uuid PRIMARY KEY REFERENCES work (id),
    signature bytea NOT NULL CHECK (length(signature) = 512)
);
CREATE TABLE work_band (
    band smallint NOT NULL,
    key bigint NOT NULL,
    work_id uuid NOT NULL REFERENCES work (id),
    PRIMARY KEY (band, key, work_id)
);

-- Near-duplicates found when a work was registered (the earlier works).
CREATE TABLE work_similar (
    work_id uuid NOT NULL REFERENCES work (id),
    similar_id uuid NOT NULL REFERENCES work (id),
    similarity_pct integer NOT NULL CHECK (similarity_pct BETWEEN 0 AND 100),
    PRIMARY KEY (work_id, similar_id)
);

-- ---- trading --------------------------------------------------------------------

CREATE TABLE listing (
    id uuid PRIMARY KEY,
    work_id uuid NOT NULL REFERENCES work (id),
    seller text NOT NULL,
    deal text NOT NULL CHECK (deal IN ('TRANSFER', 'EXCLUSIVE_LICENCE', 'NON_EXCLUSIVE_LICENCE')),
    territory text[] NOT NULL DEFAULT '{}',
    term_start date,
    term_end date,
    price_fen bigint NOT NULL CHECK (price_fen >= 0),
    status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CONTRACTED', 'WITHDRAWN')),
    created_at_us bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- a transfer has no territory or term; a licence has both
    CHECK ((deal = 'TRANSFER') = (term_start IS NULL)),
    CHECK ((term_start IS NULL) = (term_end IS NULL)),
    CHECK (term_end >= term_start)
);
CREATE INDEX listing_work ON listing (work_id);

CREATE TABLE offer (
    id uuid PRIMARY KEY,
    listing_id uuid NOT NULL REFERENCES listing (id),
    buyer text NOT NULL,
    price_fen bigint NOT NULL CHECK (price_fen >= 0),
    note text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'OPEN'
        CHECK (status IN ('OPEN', 'ACCEPTED', 'DECLINED', 'WITHDRAWN')),
    created_at_us bigint NOT NULL
);
-- one open offer per buyer and listing
CREATE UNIQUE INDEX offer_open_buyer ON offer (listing_id, buyer) WHERE status = 'OPEN';

-- An accepted offer. Licences stay in force after settlement; the checks
-- against overlapping exclusive licences read this table under the work's
-- row lock (services/ip/ip_trades.c).
CREATE TABLE contract (
    id uuid PRIMARY KEY,
    listing_id uuid NOT NULL UNIQUE REFERENCES listing (id),
    offer_id uuid NOT NULL UNIQUE REFERENCES offer (id),
    work_id uuid NOT NULL REFERENCES work (id),
    seller text NOT NULL,
    buyer text NOT NULL,
    deal text NOT NULL,
    territory text[] NOT NULL DEFAULT '{}',
    term_start date,
    term_end date,
    price_fen bigint NOT NULL CHECK (price_fen >= 0),
    share_bp integer NOT NULL DEFAULT 0,  -- transfers: the seller's share that moves
    status text NOT NULL DEFAULT 'CONTRACTED' CHECK (status IN ('CONTRACTED', 'SETTLED')),
    payment_ref text NOT NULL DEFAULT '',
    contracted_at_us bigint NOT NULL,
    settled_at_us bigint NOT NULL DEFAULT 0,
    settled_by text NOT NULL DEFAULT ''
);
CREATE INDEX contract_work ON contract (work_id);

-- ---- disputes ---------------------------------------------------------------------

CREATE TABLE dispute (
    id uuid PRIMARY KEY,
    work_id uuid NOT NULL REFERENCES work (id),
    complainant text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('INFRINGEMENT', 'IMPROPER_REGISTRATION')),
    statement text NOT NULL,
    evidence_descriptions text[] NOT NULL,
    evidence_sha256 text[] NOT NULL,
    status text NOT NULL DEFAULT 'FILED'
        CHECK (status IN ('FILED', 'ANSWERED', 'UPHELD', 'DISMISSED')),
    filed_at_us bigint NOT NULL,
    answer_by_us bigint NOT NULL,
    answer text NOT NULL DEFAULT '',
    answer_evidence_descriptions text[] NOT NULL DEFAULT '{}',
    answer_evidence_sha256 text[] NOT NULL DEFAULT '{}',
    answered_by text NOT NULL DEFAULT '',
    answered_at_us bigint NOT NULL DEFAULT 0,
    reasons text NOT NULL DEFAULT '',
    ruled_by text NOT NULL DEFAULT '',
    ruled_at_us bigint NOT NULL DEFAULT 0
);
CREATE INDEX dispute_work ON dispute (work_id);
ALTER TABLE work ADD FOREIGN KEY (frozen_by) REFERENCES dispute (id);

-- ---- service providers -------------------------------------------------------------

CREATE TABLE provider (
    id uuid PRIMARY KEY,
    party text NOT NULL UNIQUE,
    name text NOT NULL,
    categories text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    verified boolean NOT NULL DEFAULT false,
    verified_by text NOT NULL DEFAULT '',
    registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE service_request (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES provider (id),
    requester text NOT NULL,
    category text NOT NULL,
    description text NOT NULL,
    status text NOT NULL DEFAULT 'REQUESTED'
        CHECK (status IN ('REQUESTED', 'ACCEPTED', 'COMPLETED', 'RATED')),
    rating integer NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    rating_note text NOT NULL DEFAULT '',
    requested_at_us bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_request_provider ON service_request (provider_id);
