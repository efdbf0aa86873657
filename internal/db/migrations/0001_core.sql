-- Hesar core schema. Every domain row carries workspace_id. Times are Unix
-- microseconds (BIGINT) on both databases. Columns ending in _enc hold
-- AES-256-GCM ciphertext (see internal/keyring); columns ending in _idx hold
-- keyed blind indexes, never plaintext.

CREATE TABLE id_blocks (
    name    TEXT PRIMARY KEY,
    next_id BIGINT NOT NULL
);
INSERT INTO id_blocks (name, next_id) VALUES ('global', 1000);

-- Instance-wide facts, such as the check value that tells a wrong master key
-- from the right one.
CREATE TABLE instance_settings (
    name       TEXT PRIMARY KEY,
    value      {{.Blob}} NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id                 BIGINT PRIMARY KEY,
    slug               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    next_ticket_number BIGINT NOT NULL DEFAULT 1,
    settings           TEXT NOT NULL DEFAULT '{}',
    created_at         BIGINT NOT NULL
);

-- Per-workspace data keys, wrapped by the master key (never stored plain).
CREATE TABLE workspace_keys (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    purpose      TEXT NOT NULL,
    version      BIGINT NOT NULL,
    wrapped      {{.Blob}} NOT NULL,
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, purpose, version)
);

CREATE TABLE users (
    id            BIGINT PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    email_enc     {{.Blob}} NOT NULL,
    email_idx     {{.Blob}} NOT NULL,
    name_enc      {{.Blob}} NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    disabled_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, email_idx)
);

CREATE TABLE departments (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE department_members (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    department_id BIGINT NOT NULL REFERENCES departments(id),
    user_id       BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (department_id, user_id)
) {{.WithoutRowID}};
CREATE INDEX department_members_user ON department_members (user_id, department_id);

CREATE TABLE organizations (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name_enc     {{.Blob}} NOT NULL,
    name_idx     {{.Blob}} NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, name_idx)
);

CREATE TABLE customers (
    id              BIGINT PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id),
    organization_id BIGINT REFERENCES organizations(id),
    org_access      INTEGER NOT NULL DEFAULT 0,
    email_enc       {{.Blob}} NOT NULL,
    email_idx       {{.Blob}} NOT NULL,
    name_enc        {{.Blob}} NOT NULL,
    phone_enc       {{.Blob}} NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (workspace_id, email_idx)
);
CREATE INDEX customers_org ON customers (workspace_id, organization_id);

CREATE TABLE tickets (
    id                BIGINT PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id),
    number            BIGINT NOT NULL,
    subject_enc       {{.Blob}} NOT NULL,
    status            TEXT NOT NULL,
    priority          TEXT NOT NULL,
    channel           TEXT NOT NULL,
    department_id     BIGINT NOT NULL REFERENCES departments(id),
    assignee_id       BIGINT REFERENCES users(id),
    customer_id       BIGINT NOT NULL REFERENCES customers(id),
    organization_id   BIGINT REFERENCES organizations(id),
    tags              TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    first_response_at BIGINT,
    solved_at         BIGINT,
    closed_at         BIGINT,
    UNIQUE (workspace_id, number)
);
-- Queue pages read one of these indexes backwards and stop after a page:
-- no sort, no count over the table.
CREATE INDEX tickets_dept_status ON tickets (workspace_id, department_id, status, updated_at, id);
CREATE INDEX tickets_status ON tickets (workspace_id, status, updated_at, id);
CREATE INDEX tickets_assignee ON tickets (workspace_id, assignee_id, updated_at, id);
CREATE INDEX tickets_customer ON tickets (workspace_id, customer_id, updated_at, id);
CREATE INDEX tickets_org ON tickets (workspace_id, organization_id, updated_at, id);

CREATE TABLE ticket_tags (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    tag          TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
) {{.WithoutRowID}};
CREATE INDEX ticket_tags_tag ON ticket_tags (workspace_id, tag, ticket_id);

CREATE TABLE messages (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL,
    author_type  TEXT NOT NULL,
    author_id    BIGINT NOT NULL,
    body_enc     {{.Blob}} NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

-- Every change to a ticket, with who made it and when. Values of encrypted
-- fields are never copied here.
CREATE TABLE ticket_events (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    actor_type   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    old_value    TEXT NOT NULL DEFAULT '',
    new_value    TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- Keyword search without plaintext: token is a keyed hash (64 bits) of one
-- normalized word of a subject or message.
CREATE TABLE search_postings (
    workspace_id BIGINT NOT NULL,
    token        BIGINT NOT NULL,
    ticket_id    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, token, ticket_id)
) {{.WithoutRowID}};
-- No index by ticket: every posting would cost a second B-tree insert on
-- the hottest write path, and postings are only ever read by token.

-- API tokens: only a keyed hash of the secret is stored, so checking one is
-- a single indexed lookup. A token belongs to a staff user or a customer.
CREATE TABLE api_tokens (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id      BIGINT REFERENCES users(id),
    customer_id  BIGINT REFERENCES customers(id),
    name         TEXT NOT NULL,
    token_hash   {{.Blob}} NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (workspace_id, user_id);
