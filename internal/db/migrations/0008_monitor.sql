-- Security monitoring: detectors over security events and audited access,
-- the alerts they raise and the webhook deliveries that carry them.
--
-- Nothing here names a person in the clear. Windowed counters hold keyed
-- hashes (HMAC under the workspace's blind-index key) of the accounts and
-- addresses they count; addresses and user agents kept for the dashboard,
-- alert evidence, notes and the webhook's URL and secret are sealed under
-- the workspace key like every other personal field.

-- One row per workspace that changed the defaults. settings is JSON
-- without the webhook; the webhook's URL and secret are sealed.
CREATE TABLE monitor_settings (
    id                 BIGINT PRIMARY KEY,
    workspace_id       BIGINT NOT NULL UNIQUE REFERENCES workspaces(id),
    settings           TEXT NOT NULL,
    webhook_url_enc    {{.Blob}},
    webhook_secret_enc {{.Blob}},
    updated_at         BIGINT NOT NULL
);

-- Marks are what sliding windows count: one row per observation a detector
-- keeps, "subject did something to object at". Pruned once older than the
-- longest window that reads them.
CREATE TABLE monitor_marks (
    workspace_id BIGINT NOT NULL,
    rule         TEXT NOT NULL,
    subject      {{.Blob}} NOT NULL,
    object       {{.Blob}} NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX monitor_marks_subject ON monitor_marks (workspace_id, rule, subject, at);
CREATE INDEX monitor_marks_prune ON monitor_marks (rule, at);

-- Access counts per account, kind and hour: the baseline of the
-- exfiltration detector and the dashboard's top accessors. Kept 8 days.
CREATE TABLE monitor_hourly (
    workspace_id BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    hour         BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, actor_kind, actor_id, kind, hour)
) {{.WithoutRowID}};
CREATE INDEX monitor_hourly_hour ON monitor_hourly (hour);

-- Sign-ins (succeeded and failed) for travel and new-device checks and the
-- dashboard. actor_id is 0 when the account tried does not exist. Kept 90
-- days.
CREATE TABLE monitor_signins (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    at           BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    result       TEXT NOT NULL,
    session_id   BIGINT NOT NULL,
    ended_at     BIGINT,
    ip_enc       {{.Blob}} NOT NULL,
    agent_enc    {{.Blob}} NOT NULL
);
CREATE INDEX monitor_signins_recent ON monitor_signins (workspace_id, at);
CREATE INDEX monitor_signins_actor ON monitor_signins (workspace_id, actor_kind, actor_id, at);
CREATE INDEX monitor_signins_prune ON monitor_signins (at);

-- Alerts. subject is the keyed hash of what the rule watches (an account,
-- an address); at most one alert per rule and subject is open or
-- acknowledged at a time, and repeats raise its count.
CREATE TABLE monitor_alerts (
    id               BIGINT PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    rule             TEXT NOT NULL,
    subject          {{.Blob}} NOT NULL,
    severity         TEXT NOT NULL,
    state            TEXT NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_id         BIGINT NOT NULL,
    title            TEXT NOT NULL,
    explanation      TEXT NOT NULL,
    evidence_enc     {{.Blob}},
    response         TEXT NOT NULL DEFAULT '',
    count            BIGINT NOT NULL,
    first_seen_at    BIGINT NOT NULL,
    last_seen_at     BIGINT NOT NULL,
    state_changed_at BIGINT NOT NULL,
    state_by         BIGINT NOT NULL DEFAULT 0,
    note_enc         {{.Blob}}
);
CREATE UNIQUE INDEX monitor_alerts_live ON monitor_alerts (workspace_id, rule, subject) WHERE state <> 'resolved';
CREATE INDEX monitor_alerts_list ON monitor_alerts (workspace_id, state, id);

-- Webhook deliveries, leased so instances share them, retried with
-- backoff. payload holds ids and explanations only, no personal data.
CREATE TABLE monitor_deliveries (
    id              BIGINT PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id),
    alert_id        BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX monitor_deliveries_due ON monitor_deliveries (state, next_attempt_at);
