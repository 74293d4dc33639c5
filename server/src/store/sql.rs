//! One SQL surface over both stores, so that every table module and service rule is written
//! once. [`Db`] is a connection to SQLite or to PostgreSQL; statements are written in SQLite's
//! dialect with numbered parameters (`?1`) and the PostgreSQL side rewrites the few things that
//! differ (`$1`, and `ILIKE` for SQLite's ASCII-case-insensitive `LIKE`). Arguments are [`Arg`]s
//! (see the [`args!`] macro) and columns come back through [`Col`], so neither engine's types leak
//! into the table modules.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{DbError, DbResult};

/// A connection to one of the two engines.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<PgConn>>),
}

/// A PostgreSQL connection with its prepared statements (by their SQLite-dialect text).
pub struct PgConn {
    client: postgres::Client,
    config: postgres::Config,
    statements: HashMap<String, postgres::Statement>,
    read_only: bool,
    /// [`RECONNECTS`] when this connection was made or last checked.
    seen: u64,
}

/// How many times a connection of this process found its server gone and reconnected. A
/// connection made before the latest of those may be dead without knowing (the server
/// restarted): it is checked before its next use.
static RECONNECTS: AtomicU64 = AtomicU64::new(0);

/// One statement argument.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

/// `args![a, b, ...]`: a slice of [`Arg`]s from values that convert into one.
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => {
        &[$($crate::store::sql::Arg::from($e)),*][..]
    };
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<u64> for Arg<'_> {
    fn from(v: u64) -> Self {
        Arg::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl From<usize> for Arg<'_> {
    fn from(v: usize) -> Self {
        Arg::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Arg::Null, Arg::Text)
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Arg::Null, Arg::Text)
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::Null, Arg::Int)
    }
}
impl From<&Option<i64>> for Arg<'_> {
    fn from(v: &Option<i64>) -> Self {
        v.map_or(Arg::Null, Arg::Int)
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Null => ValueRef::Null,
            Arg::Int(n) => ValueRef::Integer(*n),
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(n) if *ty == Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
            Arg::Int(n) if *ty == Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
            Arg::Int(n) if *ty == Type::BOOL => (n != 0).to_sql(ty, out),
            Arg::Int(n) if *ty == Type::INT8 => n.to_sql(ty, out),
            Arg::Int(n) => n.to_string().as_str().to_sql(ty, out),
            Arg::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::BOOL,
            Type::TEXT,
            Type::VARCHAR,
            Type::UNKNOWN,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}

/// One result row, from either engine.
pub enum Row<'r, 's> {
    Sqlite(&'r rusqlite::Row<'s>),
    Postgres(&'r postgres::Row),
}

impl Row<'_, '_> {
    /// Column `i` (from 0).
    pub fn get<T: Col>(&self, i: usize) -> DbResult<T> {
        match self {
            Row::Sqlite(r) => T::from_sqlite(r, i).map_err(DbError::from),
            Row::Postgres(r) => T::from_postgres(r, i),
        }
    }
}

/// A column type both engines can produce.
pub trait Col: Sized {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn from_postgres(r: &postgres::Row, i: usize) -> DbResult<Self>;
}

/// An integer column of PostgreSQL, whatever its width (`SELECT 1` is an `int4`, a comparison a
/// `bool`).
fn pg_int(r: &postgres::Row, i: usize) -> DbResult<Option<i64>> {
    let ty = r
        .columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| DbError(format!("no column {i}")))?;
    Ok(if ty == Type::INT4 {
        r.try_get::<_, Option<i32>>(i)?.map(i64::from)
    } else if ty == Type::INT2 {
        r.try_get::<_, Option<i16>>(i)?.map(i64::from)
    } else if ty == Type::BOOL {
        r.try_get::<_, Option<bool>>(i)?.map(i64::from)
    } else {
        r.try_get::<_, Option<i64>>(i)?
    })
}

fn required<T>(v: Option<T>, i: usize) -> DbResult<T> {
    v.ok_or_else(|| DbError(format!("column {i} is NULL")))
}

impl Col for i64 {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_postgres(r: &postgres::Row, i: usize) -> DbResult<Self> {
        required(pg_int(r, i)?, i)
    }
}
impl Col for Option<i64> {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_postgres(r: &postgres::Row, i: usize) -> DbResult<Self> {
        pg_int(r, i)
    }
}
impl Col for u64 {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_postgres(r: &postgres::Row, i: usize) -> DbResult<Self> {
        let n = required(pg_int(r, i)?, i)?;
        u64::try_from(n).map_err(|_| DbError(format!("column {i} is negative")))
    }
}
impl Col for String {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_postgres(r: &postgres::Row, i: usize) -> DbResult<Self> {
        Ok(r.try_get(i)?)
    }
}
impl Col for Option<String> {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_postgres(r: &postgres::Row, i: usize) -> DbResult<Self> {
        Ok(r.try_get(i)?)
    }
}

/// SQLite's dialect to PostgreSQL's: `?N` to `$N`, and `LIKE` to `ILIKE` (SQLite's `LIKE`
/// ignores ASCII case).
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out.replace(" LIKE ", " ILIKE ")
}

impl PgConn {
    /// Connects (on the calling thread, which must not be running async code).
    pub fn connect(config: &postgres::Config, read_only: bool) -> DbResult<PgConn> {
        let mut client = config.connect(postgres::NoTls)?;
        if read_only {
            client.batch_execute("SET default_transaction_read_only = on")?;
        }
        Ok(PgConn {
            client,
            config: config.clone(),
            statements: HashMap::new(),
            read_only,
            seen: RECONNECTS.load(Ordering::SeqCst),
        })
    }

    /// Reconnects when the server closed the connection (a restart): the next statement gets a
    /// fresh one instead of failing for ever.
    pub fn revive(&mut self) -> DbResult<()> {
        if self.client.is_closed() {
            *self = PgConn::connect(&self.config, self.read_only)?;
            RECONNECTS.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Like [`PgConn::revive`], but also for a connection that does not know yet that the
    /// server went away (an idle one, across a restart): costs a round trip.
    pub fn check(&mut self) -> DbResult<()> {
        let now = RECONNECTS.load(Ordering::SeqCst);
        if self
            .client
            .is_valid(std::time::Duration::from_secs(2))
            .is_err()
        {
            *self = PgConn::connect(&self.config, self.read_only)?;
            RECONNECTS.fetch_add(1, Ordering::SeqCst);
        } else {
            self.seen = now;
        }
        Ok(())
    }

    /// Whether another connection reconnected since this one was made or checked.
    pub fn may_be_stale(&self) -> bool {
        self.seen != RECONNECTS.load(Ordering::SeqCst)
    }

    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&to_postgres(sql))?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> DbResult<Vec<postgres::Row>> {
        let stmt = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        Ok(self.client.query(&stmt, &params)?)
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> DbResult<usize> {
        let stmt = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        Ok(self.client.execute(&stmt, &params)? as usize)
    }

    pub fn batch(&mut self, sql: &str) -> DbResult<()> {
        Ok(self.client.batch_execute(sql)?)
    }
}

impl Db {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// The SQLite connection, for what only SQLite has (checkpoints, backups).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    fn pg(&self) -> DbResult<std::cell::RefMut<'_, PgConn>> {
        match self {
            Db::Postgres(c) => c
                .try_borrow_mut()
                .map_err(|_| DbError("connection used re-entrantly".into())),
            Db::Sqlite(_) => Err(DbError("not a PostgreSQL connection".into())),
        }
    }

    /// Runs a statement; returns how many rows it changed.
    pub fn execute(&self, sql: &str, args: &[Arg<'_>]) -> DbResult<usize> {
        match self {
            Db::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args.iter()))?),
            Db::Postgres(_) => self.pg()?.execute(sql, args),
        }
    }

    /// Runs an `INSERT` into a table with an `id` key and returns the new row's id.
    pub fn insert_id(&self, sql: &str, args: &[Arg<'_>]) -> DbResult<i64> {
        match self {
            Db::Sqlite(c) => {
                c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(args.iter()))?;
                Ok(c.last_insert_rowid())
            }
            Db::Postgres(_) => {
                let rows = self.pg()?.query(&format!("{sql} RETURNING id"), args)?;
                let row = rows
                    .first()
                    .ok_or_else(|| DbError("INSERT returned no id".into()))?;
                Row::Postgres(row).get(0)
            }
        }
    }

    /// Calls `f` on each row in order until it returns `false`.
    pub fn each(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_, '_>) -> DbResult<bool>,
    ) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
                while let Some(r) = rows.next()? {
                    if !f(&Row::Sqlite(r))? {
                        break;
                    }
                }
            }
            Db::Postgres(_) => {
                let rows = self.pg()?.query(sql, args)?;
                for r in &rows {
                    if !f(&Row::Postgres(r))? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Every row, each through `f`.
    pub fn all<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_, '_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, args, |r| {
            out.push(f(r)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// The first row through `f`, if there is one.
    pub fn opt<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_, '_>) -> DbResult<T>,
    ) -> DbResult<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.each(sql, args, |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(false)
        })?;
        Ok(out)
    }

    /// The first row through `f`; no row is an error.
    pub fn one<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_, '_>) -> DbResult<T>,
    ) -> DbResult<T> {
        self.opt(sql, args, f)?
            .ok_or_else(|| DbError("query returned no rows".into()))
    }

    /// Whether the query returns any row.
    pub fn exists(&self, sql: &str, args: &[Arg<'_>]) -> DbResult<bool> {
        Ok(self.opt(sql, args, |_| Ok(()))?.is_some())
    }

    /// A transaction-control statement (`BEGIN`, `SAVEPOINT job`, ...): prepared once on
    /// SQLite, sent as it is to PostgreSQL.
    pub fn control(&self, sql: &str) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => {
                c.prepare_cached(sql)?.execute([])?;
                Ok(())
            }
            Db::Postgres(_) => self.pg()?.batch(sql),
        }
    }

    /// Makes sure an idle PostgreSQL connection still works (reconnecting if not); nothing for
    /// SQLite.
    pub fn check(&self) -> DbResult<()> {
        match self {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(_) => self.pg()?.check(),
        }
    }

    /// Whether this is a PostgreSQL connection that may have lost its server without knowing.
    pub fn may_be_stale(&self) -> bool {
        match self {
            Db::Sqlite(_) => false,
            Db::Postgres(_) => self.pg().map(|c| c.may_be_stale()).unwrap_or(true),
        }
    }

    /// Reconnects a PostgreSQL connection the server closed; nothing for SQLite.
    pub fn revive(&self) -> DbResult<()> {
        match self {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(_) => self.pg()?.revive(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbered_parameters_and_like_are_rewritten_for_postgres() {
        assert_eq!(
            super::to_postgres("SELECT 1 FROM t WHERE a = ?1 AND b LIKE ?12 ESCAPE '\\'"),
            "SELECT 1 FROM t WHERE a = $1 AND b ILIKE $12 ESCAPE '\\'"
        );
    }
}
