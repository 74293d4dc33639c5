//! Auth tokens: 256-bit random values handed to the client once; only their SHA-256 is stored.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::now_ms;
use super::sql::Db;
use super::DbResult;
use crate::args;

/// A fresh token in its wire form (64 hex digits).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn insert(conn: &Db, token_hash: &str, uid: &str) -> DbResult<()> {
    conn.execute(
        "INSERT INTO tokens (hash, uid, created_at) VALUES (?1, ?2, ?3)",
        args![token_hash, uid, now_ms()],
    )?;
    Ok(())
}

/// The uid a live (not revoked) token belongs to.
pub fn owner(conn: &Db, token_hash: &str) -> DbResult<Option<String>> {
    conn.opt(
        "SELECT uid FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
        args![token_hash],
        |r| r.get(0),
    )
}

pub fn revoke(conn: &Db, token_hash: &str) -> DbResult<()> {
    conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
        args![token_hash, now_ms()],
    )?;
    Ok(())
}

/// Revokes every token of a user; returns how many were live.
pub fn revoke_all(conn: &Db, uid: &str) -> DbResult<usize> {
    conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE uid = ?1 AND revoked_at IS NULL",
        args![uid, now_ms()],
    )
}
