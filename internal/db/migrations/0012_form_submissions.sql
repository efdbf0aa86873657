-- A form that creates something (a request, a reply) carries a one-time
-- token; the first request that uses it records here what it made, so a
-- second press of the button, a reload that re-posts, or a retry after a
-- dropped answer leads to the same ticket instead of a duplicate. Rows
-- older than a day are removed as each person sends their next form.
CREATE TABLE form_submissions (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    actor_type   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    token_hash   TEXT NOT NULL,
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    message_id   BIGINT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, actor_type, actor_id, token_hash)
);
