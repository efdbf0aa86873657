-- Attachments: content is stored encrypted in chunks outside the database
-- (see internal/attachment); here only metadata, with the file name
-- encrypted like every other personal value.
CREATE TABLE attachments (
    id             BIGINT PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id),
    ticket_id      BIGINT NOT NULL REFERENCES tickets(id),
    message_id     BIGINT REFERENCES messages(id),
    name_enc       {{.Blob}} NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    -- dangerous files are kept but only ever served as a download
    dangerous      INTEGER NOT NULL DEFAULT 0,
    key_version    BIGINT NOT NULL,
    salt           {{.Blob}} NOT NULL,
    storage_key    TEXT NOT NULL,
    author_type    TEXT NOT NULL,
    author_id      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id, id);
