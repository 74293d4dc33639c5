//! The PostgreSQL store: connecting, and its versioned migrations (recorded in
//! `schema_version`, applied under an advisory lock so that nodes starting together migrate
//! once).

use std::cell::RefCell;
use std::str::FromStr;

use super::sql::{Db, PgConn};
use super::DbError;

/// Schema versions, applied in order.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/001_initial.sql"),
    include_str!("migrations/postgres/002_conversations.sql"),
    include_str!("migrations/postgres/003_blocks.sql"),
    include_str!("migrations/postgres/004_conversation_heads.sql"),
    include_str!("migrations/postgres/005_nodes.sql"),
    include_str!("migrations/postgres/006_mentions.sql"),
    include_str!("migrations/postgres/007_threads.sql"),
];

/// The advisory lock nodes take while they migrate (any fixed number; this one spells "cw").
const MIGRATION_LOCK: i64 = 0x6377;

/// Connects the writer's connection and migrates the database. Runs on a thread of its own:
/// the blocking client must not run on a thread that runs async code.
pub fn open(url: &str) -> Result<(Db, postgres::Config), String> {
    let config = postgres::Config::from_str(url)
        .map_err(|e| format!("bad PostgreSQL address (--store postgres://...): {e}"))?;
    let config2 = config.clone();
    let db = std::thread::scope(|s| {
        s.spawn(move || -> Result<Db, String> {
            let conn = PgConn::connect(&config2, false)
                .map_err(|e| format!("cannot connect to PostgreSQL: {}", e.0))?;
            let db = Db::Postgres(Box::new(RefCell::new(conn)));
            migrate(&db)?;
            Ok(db)
        })
        .join()
        .map_err(|_| "PostgreSQL setup failed".to_string())?
    })?;
    Ok((db, config))
}

fn migrate(db: &Db) -> Result<(), String> {
    let failed = |e: DbError| format!("database migration failed: {}", e.0);
    db.control(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(failed)?;
    let result = apply(db);
    let _ = db.control(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    result
}

fn apply(db: &Db) -> Result<(), String> {
    let failed = |e: DbError| format!("database migration failed: {}", e.0);
    db.control("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .map_err(failed)?;
    let done: Option<i64> = db
        .one("SELECT max(version) FROM schema_version", &[], |r| r.get(0))
        .map_err(failed)?;
    let done = usize::try_from(done.unwrap_or(0)).unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(super::newer_schema_message(done));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        db.control(&format!(
            "BEGIN; {sql}; INSERT INTO schema_version (version) VALUES ({}); COMMIT;",
            i + 1
        ))
        .map_err(failed)?;
    }
    Ok(())
}

/// Creates an empty database named `name` on the server `admin` (a connection string to an
/// existing database there, such as `host=... port=... user=... dbname=postgres`) and returns
/// the connection string of the new one. For tests and first setups.
pub fn create_database(admin: &str, name: &str) -> Result<String, String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "bad database name {name:?}: letters, digits and _ only"
        ));
    }
    let config =
        postgres::Config::from_str(admin).map_err(|e| format!("bad PostgreSQL address: {e}"))?;
    std::thread::scope(|s| {
        s.spawn(|| -> Result<(), String> {
            let mut client = config
                .connect(postgres::NoTls)
                .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .map_err(|e| format!("cannot create database {name}: {e}"))
        })
        .join()
        .map_err(|_| "PostgreSQL setup failed".to_string())?
    })?;
    Ok(format!("{admin} dbname={name}"))
}
