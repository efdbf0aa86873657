-- Identity: sign-in for staff and customers, sessions, second factors,
-- emailed links, throttling and the outbound mail outbox.
--
-- Every credential is stored so that a copy of the database cannot be used:
-- passwords as argon2id hashes, session ids, link tokens and recovery codes
-- as keyed hashes, TOTP secrets sealed under the workspace key. IP addresses
-- and user agents are personal data and are sealed too.

ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_at BIGINT;
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
-- The WebAuthn user handle: random, so an authenticator never learns a row id.
ALTER TABLE users ADD COLUMN webauthn_handle {{.Blob}};

ALTER TABLE customers ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN password_changed_at BIGINT;
ALTER TABLE customers ADD COLUMN email_verified_at BIGINT;
ALTER TABLE customers ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN locked_at BIGINT;
ALTER TABLE customers ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN webauthn_handle {{.Blob}};

-- A token may carry a subset of its owner's permissions (space-separated);
-- NULL means all of them.
ALTER TABLE api_tokens ADD COLUMN permissions TEXT;

-- Server-side sessions. The cookie holds a 256-bit random secret; only its
-- keyed hash is stored. state: 'mfa' (password accepted, second factor
-- pending), 'enroll' (must enroll a second factor before anything else),
-- 'active'.
CREATE TABLE sessions (
    id            BIGINT PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    secret_hash   {{.Blob}} NOT NULL UNIQUE,
    user_id       BIGINT REFERENCES users(id),
    customer_id   BIGINT REFERENCES customers(id),
    state         TEXT NOT NULL,
    method        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    auth_at       BIGINT NOT NULL,
    ip_enc        {{.Blob}} NOT NULL,
    agent_enc     {{.Blob}} NOT NULL,
    place         TEXT NOT NULL DEFAULT '',
    revoked_at    BIGINT,
    revoked_why   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (workspace_id, user_id, revoked_at);
CREATE INDEX sessions_customer ON sessions (workspace_id, customer_id, revoked_at);

-- One TOTP secret per account; confirmed_at is set by the first good code.
-- last_step is the last time step accepted, so a code is never used twice.
CREATE TABLE totp_secrets (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id      BIGINT REFERENCES users(id),
    customer_id  BIGINT REFERENCES customers(id),
    secret_enc   {{.Blob}} NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX totp_secrets_user ON totp_secrets (user_id);
CREATE UNIQUE INDEX totp_secrets_customer ON totp_secrets (customer_id);

CREATE TABLE recovery_codes (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id      BIGINT REFERENCES users(id),
    customer_id  BIGINT REFERENCES customers(id),
    code_hash    {{.Blob}} NOT NULL UNIQUE,
    used_at      BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (workspace_id, user_id);
CREATE INDEX recovery_codes_customer ON recovery_codes (workspace_id, customer_id);

CREATE TABLE webauthn_credentials (
    id            BIGINT PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    user_id       BIGINT REFERENCES users(id),
    customer_id   BIGINT REFERENCES customers(id),
    credential_id {{.Blob}} NOT NULL UNIQUE,
    name_enc      {{.Blob}} NOT NULL,
    credential    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (workspace_id, user_id);
CREATE INDEX webauthn_credentials_customer ON webauthn_credentials (workspace_id, customer_id);

-- Ceremony state between a WebAuthn begin and finish (any instance may
-- answer the finish), found by the keyed hash of a random handle.
CREATE TABLE auth_challenges (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    handle_hash  {{.Blob}} NOT NULL UNIQUE,
    purpose      TEXT NOT NULL,
    user_id      BIGINT REFERENCES users(id),
    customer_id  BIGINT REFERENCES customers(id),
    data         TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);

-- Emailed single-use links (verify email, reset password, sign-in link).
CREATE TABLE auth_links (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    purpose      TEXT NOT NULL,
    user_id      BIGINT REFERENCES users(id),
    customer_id  BIGINT REFERENCES customers(id),
    token_hash   {{.Blob}} NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX auth_links_user ON auth_links (workspace_id, user_id);
CREATE INDEX auth_links_customer ON auth_links (workspace_id, customer_id);

-- Failed attempts per keyed hash of what was tried (an address, an account
-- name, an account's second factor), shared by every instance.
CREATE TABLE auth_throttle (
    key_hash   {{.Blob}} PRIMARY KEY,
    failures   INTEGER NOT NULL,
    blocked_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) {{.WithoutRowID}};
CREATE INDEX auth_throttle_updated ON auth_throttle (updated_at);

-- Outbound mail, delivered by a worker over SMTP. Recipient, subject and
-- body are sealed; the body is wiped once the message is delivered.
CREATE TABLE mail_outbox (
    id              BIGINT PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id),
    kind            TEXT NOT NULL,
    to_enc          {{.Blob}} NOT NULL,
    subject_enc     {{.Blob}} NOT NULL,
    body_enc        {{.Blob}} NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
