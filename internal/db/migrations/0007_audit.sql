-- Audit log: append-only, tamper-evident records of security actions and
-- reads of sensitive data (docs/AUDIT.md).
--
-- A record is inserted without a chain position, inside the transaction of
-- the change it records, so writers never contend for a shared row. A
-- sealer (one per workspace at a time) later gives it seq, prev_hash and
-- hash = SHA-256(prev_hash || mac). mac is a keyed MAC, computed when the
-- record is made, over every field with the IP address and user agent in
-- plaintext; those two are stored sealed (ip_enc, agent_enc).

CREATE TABLE audit_log (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    seq          BIGINT,
    prev_hash    {{.Blob}},
    hash         {{.Blob}},
    mac          {{.Blob}} NOT NULL,
    at           BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL DEFAULT 0,
    token_id     BIGINT NOT NULL DEFAULT 0,
    session_id   BIGINT NOT NULL DEFAULT 0,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL DEFAULT '',
    target_id    BIGINT NOT NULL DEFAULT 0,
    result       TEXT NOT NULL,
    ip_enc       {{.Blob}},
    agent_enc    {{.Blob}},
    request_id   TEXT NOT NULL DEFAULT '',
    details      TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX audit_log_seq ON audit_log (workspace_id, seq);
-- Only records waiting for the sealer are in this index; it stays small.
CREATE INDEX audit_log_unsealed ON audit_log (workspace_id, created_at, id) WHERE seq IS NULL;
CREATE INDEX audit_log_actor ON audit_log (workspace_id, actor_kind, actor_id, seq);
CREATE INDEX audit_log_target ON audit_log (workspace_id, target_kind, target_id, seq);

-- The end of each workspace's chain, written only by the sealer; mac is a
-- keyed MAC over (workspace, seq, hash, updated_at).
CREATE TABLE audit_heads (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id),
    seq          BIGINT NOT NULL,
    hash         {{.Blob}} NOT NULL,
    mac          {{.Blob}} NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Signed checkpoints: the chain must pass through each one, and after a
-- prune verification starts from the last checkpoint before the cutoff.
CREATE TABLE audit_checkpoints (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    seq          BIGINT NOT NULL,
    hash         {{.Blob}} NOT NULL,
    at           BIGINT NOT NULL,
    mac          {{.Blob}} NOT NULL
);
CREATE UNIQUE INDEX audit_checkpoints_seq ON audit_checkpoints (workspace_id, seq);
