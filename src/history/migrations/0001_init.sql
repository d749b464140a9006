-- evalgate history, schema 1. The same SQL runs on SQLite and PostgreSQL.
-- Times are RFC 3339 UTC strings (sortable); JSON is stored as TEXT.

CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    suite         TEXT NOT NULL,
    suite_hash    TEXT NOT NULL,
    suite_path    TEXT NOT NULL,
    models        TEXT NOT NULL,
    gateway_url   TEXT NOT NULL,
    simulated     BOOLEAN NOT NULL,
    tool_version  TEXT NOT NULL,
    git_commit    TEXT,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    exit_code     BIGINT NOT NULL,
    green         BOOLEAN NOT NULL,
    run_dir       TEXT,
    shard         TEXT,
    stopped_by    TEXT,
    summary_json  TEXT NOT NULL
);
CREATE INDEX runs_suite_started ON runs (suite, started_at);

CREATE TABLE model_summaries (
    run_id                TEXT NOT NULL REFERENCES runs (id),
    model                 TEXT NOT NULL,
    requests              BIGINT NOT NULL,
    ok                    BIGINT NOT NULL,
    errors                BIGINT NOT NULL,
    skipped               BIGINT NOT NULL,
    ttft_p50_ms           DOUBLE PRECISION,
    ttft_p95_ms           DOUBLE PRECISION,
    ttft_p99_ms           DOUBLE PRECISION,
    duration_p50_ms       DOUBLE PRECISION,
    duration_p95_ms       DOUBLE PRECISION,
    duration_p99_ms       DOUBLE PRECISION,
    cost_usd              DOUBLE PRECISION,
    cost_per_request_usd  DOUBLE PRECISION,
    input_tokens          BIGINT NOT NULL,
    output_tokens         BIGINT NOT NULL,
    pass_rate             DOUBLE PRECISION,
    PRIMARY KEY (run_id, model)
);

CREATE TABLE requests (
    run_id        TEXT NOT NULL REFERENCES runs (id),
    seq           BIGINT NOT NULL,
    job           BIGINT NOT NULL,
    case_id       TEXT NOT NULL,
    model         TEXT NOT NULL,
    repeat_index  BIGINT NOT NULL,
    status        TEXT NOT NULL,
    error_kind    TEXT,
    ttft_ms       DOUBLE PRECISION,
    duration_ms   DOUBLE PRECISION,
    output_tokens BIGINT,
    cost_usd      DOUBLE PRECISION,
    passed        BOOLEAN,
    row_json      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
