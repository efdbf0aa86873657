-- Scheduled backups record every run, so health checks and every instance
-- can see when the last good backup was taken (instance-wide, no workspace).
CREATE TABLE backup_runs (
    id          BIGINT PRIMARY KEY,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    ok          INTEGER NOT NULL,
    file        TEXT NOT NULL,
    bytes       BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX backup_runs_started ON backup_runs (started_at);
