//! The PostgreSQL tables, created at start under an advisory lock.

/// The key of the advisory lock held while migrating, so that two workers
/// starting together do not race on `CREATE TABLE`.
pub(crate) const MIGRATION_LOCK: i64 = 0x636c_6f75_6472_6563; // "cloudrec"

/// The migrations, in order: (version, name, statements). A version, once
/// released, is never edited: a change is a new version.
pub(crate) const MIGRATIONS: &[(i32, &str, &[&str])] = &[
    (
        1,
        "sessions",
        &[
            "CREATE TABLE IF NOT EXISTS cloudrec_sessions (
            id UUID PRIMARY KEY,
            app_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            cname TEXT NOT NULL,
            uid TEXT NOT NULL,
            resource_id TEXT,
            sid TEXT,
            state TEXT NOT NULL,
            snapshot JSONB NOT NULL DEFAULT '{}'::jsonb,
            owner TEXT,
            lease_until TIMESTAMPTZ,
            epoch BIGINT NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
            "CREATE INDEX IF NOT EXISTS cloudrec_sessions_claim
            ON cloudrec_sessions (lease_until NULLS FIRST)
            WHERE state NOT IN ('stopped', 'stopped_no_data', 'failed', 'lost')",
            "CREATE INDEX IF NOT EXISTS cloudrec_sessions_owner
            ON cloudrec_sessions (owner)
            WHERE owner IS NOT NULL",
        ],
    ),
    (
        2,
        "report, request, sealed start, idempotency",
        &[
            "ALTER TABLE cloudrec_sessions
                ADD COLUMN IF NOT EXISTS report JSONB NOT NULL DEFAULT '{}'::jsonb,
                ADD COLUMN IF NOT EXISTS request JSONB NOT NULL DEFAULT '{}'::jsonb,
                ADD COLUMN IF NOT EXISTS sealed_start BYTEA,
                ADD COLUMN IF NOT EXISTS idempotency_key TEXT,
                ADD COLUMN IF NOT EXISTS request_hash TEXT",
            "CREATE UNIQUE INDEX IF NOT EXISTS cloudrec_sessions_idempotency
                ON cloudrec_sessions (app_id, idempotency_key)
                WHERE idempotency_key IS NOT NULL",
        ],
    ),
    (
        3,
        "commands",
        &[
            "CREATE TABLE IF NOT EXISTS cloudrec_commands (
                id BIGSERIAL PRIMARY KEY,
                session_id UUID NOT NULL,
                kind TEXT NOT NULL
                    CHECK (kind IN ('stop', 'update', 'update_layout', 'query_now')),
                body JSONB NOT NULL DEFAULT 'null'::jsonb,
                state TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'done', 'failed')),
                result TEXT,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                done_at TIMESTAMPTZ
            )",
            "CREATE INDEX IF NOT EXISTS cloudrec_commands_pending
                ON cloudrec_commands (session_id, id)
                WHERE state = 'pending'",
            "CREATE INDEX IF NOT EXISTS cloudrec_sessions_sid
                ON cloudrec_sessions (sid)
                WHERE sid IS NOT NULL",
        ],
    ),
];

/// The table that records which migrations ran.
pub(crate) const VERSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS cloudrec_store_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";
