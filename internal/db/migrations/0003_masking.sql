-- Masking of financial data (PCI DSS requirement 3): subjects and bodies
-- hold the masked text; when something was masked, the original (with card
-- security codes and PINs removed, as they may never be stored) is kept
-- sealed under the workspace's restricted key, readable only through a
-- reveal that names a reason and is recorded.
ALTER TABLE tickets ADD COLUMN subject_original_enc {{.Blob}};
ALTER TABLE messages ADD COLUMN body_original_enc {{.Blob}};
ALTER TABLE messages ADD COLUMN masked_kinds TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN subject_masked_kinds TEXT NOT NULL DEFAULT '';

CREATE TABLE reveals (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    message_id   BIGINT REFERENCES messages(id),
    actor_type   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    reason_enc   {{.Blob}} NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX reveals_ticket ON reveals (workspace_id, ticket_id, id);
