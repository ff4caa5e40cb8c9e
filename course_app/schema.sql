-- The whole schema, created at start-up (every statement is idempotent).
-- Times are ISO-8601 UTC strings written by course_app.clock.

CREATE TABLE IF NOT EXISTS users (
    id                 INTEGER PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email_verified     INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    password_hash      TEXT,                      -- NULL for a passkey-only account
    totp_secret        TEXT,                      -- set by 2FA setup, trusted once enabled
    totp_enabled       INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1)),
    totp_last_step     INTEGER,                   -- last accepted TOTP timestep (replay guard)
    created_at         TEXT NOT NULL
);

-- An account made by sign-up whose address nobody has proven yet. Its password belongs to
-- whoever typed the address, who need not read that inbox: a reset link mailed there lets the
-- inbox's owner claim the account (and wipes whatever it holds). Verification ends the claim.
-- An address that merely changed (unverified since) is no claim: it gets no recovery mail.
CREATE TABLE IF NOT EXISTS signup_claims (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);

-- A sign-up's claim is on the address it signed up with: once the account moves to another
-- address, no recovery mail follows it there (the new one may be a typo). A trigger, so every
-- way of changing an address ends it, exercise 1's route among them.
CREATE TRIGGER IF NOT EXISTS users_end_signup_claim
AFTER UPDATE OF email ON users
WHEN NEW.email <> OLD.email COLLATE NOCASE
BEGIN
    DELETE FROM signup_claims WHERE user_id = NEW.id;
END;

-- The address an account last proved, kept when a change moves it to an unproven one: if the
-- new address's real owner claims it, the account goes back here (accounts.release_unproven).
CREATE TABLE IF NOT EXISTS proven_addresses (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email       TEXT NOT NULL COLLATE NOCASE
);
CREATE TRIGGER IF NOT EXISTS users_keep_proven_address
AFTER UPDATE OF email ON users
WHEN OLD.email_verified = 1 AND NEW.email <> OLD.email COLLATE NOCASE
BEGIN
    INSERT OR REPLACE INTO proven_addresses (user_id, email) VALUES (OLD.id, OLD.email);
END;

CREATE TABLE IF NOT EXISTS sessions (
    id                   INTEGER PRIMARY KEY,
    token_hash           TEXT NOT NULL UNIQUE,    -- SHA-256 of the cookie value, never the value
    user_id              INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at           TEXT NOT NULL,
    last_seen_at         TEXT NOT NULL,
    confirmed_at         TEXT,                    -- last identity confirmation (the step-up stamp)
    confirmed_method     TEXT,
    failed_confirmations INTEGER NOT NULL DEFAULT 0,
    user_agent           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);

-- A password accepted for an account with 2FA, waiting for its second factor.
CREATE TABLE IF NOT EXISTS pending_logins (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0
);

-- Single-use links sent by mail: email verification and password reset.
CREATE TABLE IF NOT EXISTS email_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    email       TEXT NOT NULL,                    -- the address the link was sent to
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX IF NOT EXISTS email_tokens_user ON email_tokens(user_id, purpose);

CREATE TABLE IF NOT EXISTS recovery_codes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX IF NOT EXISTS recovery_codes_user ON recovery_codes(user_id);

CREATE TABLE IF NOT EXISTS passkeys (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id  TEXT NOT NULL UNIQUE,          -- base64url
    public_key     BLOB NOT NULL,                 -- COSE key
    sign_count     INTEGER NOT NULL DEFAULT 0,
    name           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT
);

-- WebAuthn challenges: single-use, short-lived, bound to what they are for.
CREATE TABLE IF NOT EXISTS webauthn_challenges (
    id          INTEGER PRIMARY KEY,
    challenge   TEXT NOT NULL UNIQUE,             -- base64url
    purpose     TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'confirm')),
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    session_id  INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
    expires_at  TEXT NOT NULL
);

-- The WebAuthn user handle: random bytes the authenticator keeps with a passkey (never the
-- email or the row id), returned at sign-in so the account can be checked.
CREATE TABLE IF NOT EXISTS webauthn_users (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    handle      TEXT NOT NULL UNIQUE              -- base64url
);

CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY,
    to_addr     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS orgs (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    verified_domain  TEXT,                        -- members with a verified address here may join
    created_at       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS memberships (
    org_id   INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    PRIMARY KEY (org_id, user_id)
);

-- An invitation is not a membership: it becomes one only when the person at ``email`` accepts
-- it, signed in with that address verified. The inviter learns nothing about who has an account.
CREATE TABLE IF NOT EXISTS invitations (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email       TEXT NOT NULL COLLATE NOCASE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    UNIQUE (org_id, email)
);
CREATE INDEX IF NOT EXISTS invitations_email ON invitations(email);

CREATE TABLE IF NOT EXISTS api_keys (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,                  -- shown in lists so people can tell keys apart
    key_hash      TEXT NOT NULL UNIQUE,           -- SHA-256 of the secret, never the secret
    created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE TABLE IF NOT EXISTS audit_log (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log(user_id, id);

-- Password checks under way (course_app/ratelimit.py): each holds a slot of the account's
-- allowance while bcrypt runs, and becomes a failure only if the check fails.
CREATE TABLE IF NOT EXISTS attempts_in_flight (
    id          INTEGER PRIMARY KEY,
    scope       TEXT NOT NULL,
    started_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_in_flight_scope ON attempts_in_flight(scope, started_at);

-- Failed sign-ins, per account and per client, for throttling.
CREATE TABLE IF NOT EXISTS login_failures (
    id          INTEGER PRIMARY KEY,
    scope       TEXT NOT NULL,                    -- 'email:<address>[|ip:<client>]', 'ip:<client>', …
    created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_scope ON login_failures(scope, created_at);
