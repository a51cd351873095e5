//! Database access: the backend is chosen at run time from `DATABASE_URL` (SQLite file or
//! PostgreSQL), behind one pooled connection type the model code is written against.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub mod writer;
pub use writer::Writer;

/// One connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<DbManager>;
pub type PooledConn = r2d2::PooledConnection<DbManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Inserts many rows in one statement. Multi-row inserts are not available through the
/// multi-backend connection, so this runs them on the backend's own connection (inside
/// whatever transaction is open on it).
#[macro_export]
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConn::Postgres(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A file path (or `:memory:`), without any `sqlite:` prefix.
    Sqlite(String),
    Postgres(String),
}

impl DbUrl {
    /// Accepts a bare path, `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or
    /// `postgresql://…`; any other scheme is refused rather than guessed at.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(raw.to_string()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("DATABASE_URL names SQLite but no file path".into());
            }
            return Ok(DbUrl::Sqlite(path.to_string()));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(format!(
                "DATABASE_URL scheme `{scheme}` is not supported: use a SQLite file path, \
                 sqlite://PATH or postgres://USER@HOST/DB"
            ));
        }
        Ok(DbUrl::Sqlite(raw.to_string()))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbUrl::Sqlite(_) => "sqlite",
            DbUrl::Postgres(_) => "postgres",
        }
    }

    /// The URL with any password hidden, fit for logs.
    pub fn redacted(&self) -> String {
        match self {
            DbUrl::Sqlite(path) => format!("sqlite://{path}"),
            DbUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let userinfo = &url[scheme_end + 3..at];
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// r2d2 manager that opens the right backend and prepares every SQLite connection.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DbUrl,
}

impl DbManager {
    pub fn new(url: DbUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match &self.url {
            DbUrl::Postgres(url) => establish_postgres(url)
                .map(DbConn::Postgres)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DbUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // Without these, concurrent writers fail with "database is locked"
                // instead of waiting their turn, and foreign keys are not enforced.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 15000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA journal_size_limit = 67108864;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection handed back while its thread unwinds from a panic, or with a
    /// transaction still open or failed, is thrown away rather than reused: on SQLite an
    /// open `BEGIN IMMEDIATE` would hold the write lock, and the next caller's transaction
    /// would become a savepoint that never commits.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Opens a PostgreSQL connection the way every part of OCOD must.
///
/// The pool's own threads (and a worker mid-query) may still be inside libpq when the
/// process exits. Two libraries libpq uses free their global state in exit handlers
/// while those threads still use it, which crashed processes at exit with SIGSEGV or
/// "double free": OpenSSL (so its exit handler is never registered: `openssl_sys::init`
/// asks for `OPENSSL_INIT_NO_ATEXIT` before libpq first touches OpenSSL) and the
/// Kerberos GSSAPI library, probed on every connection by libpq's default
/// `gssencmode=prefer` (so that probe is off unless the URL or `PGGSSENCMODE` asks for it).
pub fn establish_postgres(url: &str) -> ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(&libpq_url(url, std::env::var_os("PGGSSENCMODE").is_some()))
}

/// `url` with `gssencmode=disable` added, unless the operator chose a mode.
fn libpq_url(url: &str, mode_in_environment: bool) -> String {
    let chosen_in_url = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p.starts_with("gssencmode=")));
    if chosen_in_url || mode_in_environment {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}gssencmode=disable")
}

/// Builds the pool, failing fast with the backend's own message if the database is
/// unreachable.
pub fn build_pool(url: &DbUrl, max_size: u32) -> anyhow::Result<DbPool> {
    if let DbUrl::Sqlite(path) = url {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                std::fs::create_dir_all(parent)?;
            }
        }
    }
    // Test the connection once ourselves so the real error reaches the operator.
    let manager = DbManager::new(url.clone());
    let mut first = r2d2::ManageConnection::connect(&manager)
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", url.redacted()))?;
    if let DbConn::Sqlite(conn) = &mut first {
        if !sqlite_plans_are_stable(conn)? {
            tracing::warn!(
                "this SQLite was compiled without SQLITE_ENABLE_QPSG (build OCOD from its \
                 repository, whose .cargo/config.toml sets it): statements are compiled \
                 afresh on every run, and writes are slower"
            );
        }
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(manager)?;
    Ok(pool)
}

/// Whether the SQLite library was compiled with the query planner stability guarantee
/// (`SQLITE_ENABLE_QPSG`, set for the bundled SQLite in `.cargo/config.toml`), without
/// which a cached statement with `LIMIT ?` is planned again on every run.
pub fn sqlite_plans_are_stable(conn: &mut SqliteConnection) -> diesel::QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query(
        "SELECT count(*) AS n FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG'",
    )
    .get_result(conn)?;
    Ok(found.n > 0)
}

/// Applies pending migrations for the connection's backend. On PostgreSQL an advisory
/// lock keeps several servers starting at once from migrating concurrently.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .iter()
            .map(|v| v.to_string())
            .collect(),
        DbConn::Postgres(c) => {
            const MIGRATION_LOCK: i64 = 0x6f636f64; // "ocod"
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(|v| v.to_string()).collect::<Vec<_>>())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            result?
        }
    };
    Ok(applied)
}

/// Writers of this process take turns here before `BEGIN IMMEDIATE` on SQLite. SQLite has
/// one writer at a time anyway; without this, connections that find the write lock taken
/// sleep in `busy_timeout`'s backoff (up to 100 ms a try) while the lock may have been
/// free for most of it, which stalled the push worker behind its own recorder. Waiting on
/// a mutex hands the lock over at once and in turn. One lock for every SQLite database of
/// the process (in production there is one); other processes still meet `busy_timeout`.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a transaction that takes the write lock up front on SQLite (so a
/// read-then-write cannot fail half-way with SQLITE_BUSY), after this process's other
/// writers (`SQLITE_WRITER`), and a normal one on PostgreSQL. Inside an open transaction
/// it is a savepoint, except in a writer's first attempt at a batch, where it joins the
/// batch's transaction (`writer` says why and how a failure is undone).
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let open = in_transaction(conn);
    if open && writer::joins_open_transaction() {
        return joined(conn, f);
    }
    let outermost_sqlite = matches!(conn, DbConn::Sqlite(_)) && !open;
    match conn {
        DbConn::Sqlite(inner) if outermost_sqlite => {
            // `immediate_transaction` exists only on the concrete SQLite connection; begin
            // the same way through its transaction manager so nested `transaction` calls
            // inside `f` still become savepoints.
            let _turn = SQLITE_WRITER
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            let result = f(conn);
            let DbConn::Sqlite(inner) = conn else {
                unreachable!("the variant cannot change inside a transaction")
            };
            match result {
                Ok(value) => {
                    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(inner)?;
                    Ok(value)
                }
                Err(e) => {
                    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(inner)?;
                    Err(e)
                }
            }
        }
        // Already inside a transaction (which holds the write lock on SQLite), or on
        // PostgreSQL: an ordinary (nested: savepoint) transaction.
        _ => conn.transaction(f),
    }
}

/// As `write_transaction`, but joins the caller's transaction when one is open instead of
/// nesting a savepoint in it (two round trips fewer on PostgreSQL, on paths that hold a
/// hot row lock). An error inside rolls back only with the caller's whole transaction:
/// on PostgreSQL a failed statement leaves it unusable, so the caller must not go on
/// with it after an `Err`.
pub fn joined_write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if in_transaction(conn) {
        joined(conn, f)
    } else {
        write_transaction(conn, f)
    }
}

/// Runs `f` in the transaction open on the connection. If it fails inside a writer's batch,
/// the batch is told: what `f` wrote before failing is not rolled back by itself.
fn joined<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
{
    let result = f(conn);
    if result.is_err() {
        writer::joined_transaction_failed();
    }
    result
}

/// Whether a transaction is open on the connection.
fn in_transaction(conn: &mut DbConn) -> bool {
    let depth =
        match conn {
            DbConn::Sqlite(inner) => <AnsiTransactionManager as TransactionManager<
                SqliteConnection,
            >>::transaction_manager_status_mut(inner)
            .transaction_depth(),
            DbConn::Postgres(inner) => <AnsiTransactionManager as TransactionManager<
                PgConnection,
            >>::transaction_manager_status_mut(inner)
            .transaction_depth(),
        };
    matches!(depth, Ok(Some(_)))
}

/// What a WAL checkpoint did: pages left in the log (0 once emptied), pages copied into the database,
/// and whether the log was emptied (`TRUNCATE`) or only copied as far as readers allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub log_pages: i64,
    pub checkpointed: i64,
    pub truncated: bool,
}

#[derive(QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

/// SQLite only (`None` on PostgreSQL): copies the write-ahead log into the database and
/// empties it, taking this process's writer turn so no write of ours waits behind it.
/// Sustained reads keep SQLite's own checkpoints from ever finishing, and the log grows
/// without bound (343 MB after a benchmark); this is run by the housekeeping thread. When
/// a reader holds an old snapshot, `TRUNCATE` gives up at once (a short busy timeout)
/// and a `PASSIVE` checkpoint copies what it can without waiting.
pub fn checkpoint_wal(conn: &mut DbConn) -> QueryResult<Option<Checkpoint>> {
    let DbConn::Sqlite(inner) = conn else {
        return Ok(None);
    };
    let _turn = SQLITE_WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    inner.batch_execute("PRAGMA busy_timeout = 50")?;
    let run = |inner: &mut SqliteConnection, mode: &str| {
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
            .get_result::<CheckpointRow>(inner)
    };
    let outcome = run(inner, "TRUNCATE").and_then(|row| {
        if row.busy == 0 {
            Ok((row, true))
        } else {
            run(inner, "PASSIVE").map(|row| (row, false))
        }
    });
    inner.batch_execute("PRAGMA busy_timeout = 15000")?;
    let (row, truncated) = outcome?;
    Ok(Some(Checkpoint {
        log_pages: i64::from(row.log),
        checkpointed: i64::from(row.checkpointed),
        truncated,
    }))
}

/// Asks the database to answer at all (readiness checks).
pub fn ping(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// The current time in UTC, truncated to microseconds so it round-trips through both
/// backends unchanged.
pub fn now() -> chrono::NaiveDateTime {
    truncate_micros(chrono::Utc::now().naive_utc())
}

pub fn truncate_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build keeps SQLite's plans independent of bound values (`.cargo/config.toml`):
    /// lose that and every `LIMIT ?` statement is compiled again on every run.
    #[test]
    fn the_bundled_sqlite_has_stable_plans() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        assert!(sqlite_plans_are_stable(&mut conn).unwrap());
    }

    #[test]
    fn urls_choose_the_backend_from_the_scheme() {
        assert_eq!(
            DbUrl::parse("./ocod.db"),
            Ok(DbUrl::Sqlite("./ocod.db".into()))
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db"),
            Ok(DbUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            DbUrl::parse("sqlite:x.db"),
            Ok(DbUrl::Sqlite("x.db".into()))
        );
        assert!(matches!(
            DbUrl::parse("postgres://u@h/db"),
            Ok(DbUrl::Postgres(_))
        ));
        assert!(matches!(
            DbUrl::parse("postgresql://u@h/db"),
            Ok(DbUrl::Postgres(_))
        ));
        let err = DbUrl::parse("mysql://root@localhost/x").unwrap_err();
        assert!(err.contains("`mysql`"), "{err}");
        assert!(DbUrl::parse("").is_err());
    }

    #[test]
    fn libpq_skips_the_kerberos_probe_unless_asked_for_it() {
        assert_eq!(
            libpq_url("postgres://u@h/db", false),
            "postgres://u@h/db?gssencmode=disable"
        );
        assert_eq!(
            libpq_url("postgres://u@h/db?sslmode=require", false),
            "postgres://u@h/db?sslmode=require&gssencmode=disable"
        );
        for chosen in [
            "postgres://u@h/db?gssencmode=require",
            "postgres://u@h/db?sslmode=require&gssencmode=prefer",
        ] {
            assert_eq!(libpq_url(chosen, false), chosen);
        }
        assert_eq!(libpq_url("postgres://u@h/db", true), "postgres://u@h/db");
    }

    #[test]
    fn redacted_urls_hide_the_password() {
        let url = DbUrl::parse("postgres://app:s3cret@db:5432/ocod").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/ocod");
    }
}
