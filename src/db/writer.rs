//! The writers: threads with their own connections that run the hottest writes (an
//! enrollment storm) one after another and commit each batch of them at once.
//!
//! SQLite has one writer at a time whatever we do. Run from the request threads, every
//! write hands the lock (the `SQLITE_WRITER` mutex) to another thread, which must be woken
//! and scheduled on a busy core first, finds its page cache stale because another
//! connection wrote, and commits alone. Here the jobs queue up while a batch runs; the
//! next batch takes all of them (up to `MAX_BATCH`) in one `BEGIN IMMEDIATE … COMMIT`
//! on a connection whose cache stays warm.
//!
//! PostgreSQL locks rows, so writes to different sessions proceed together; but every
//! create in one popular session waits at that session's row lock, which is held until
//! the commit, and a commit waits for the WAL to be flushed (0.4–0.6 ms here under load).
//! One at a time, that caps a session at about 1,500 creates a second, however short the
//! rest. So enrollments (`run_in_session`) go to `PG_LANES` writer threads, each with its
//! own connection, by session: a lane's batch holds the jobs of one session, so they
//! share one lock wait and one commit. A batch first locks all its people (in ID order,
//! `users::lock_all`), then runs its jobs, which lock the session: people before the
//! session, as the locking rule in `models::seats` asks, and two batches take people in
//! the same order, so they cannot deadlock. Other writes (`run`) use the pool.
//!
//! A batch runs its jobs in the batch's transaction itself first: each job's own
//! `write_transaction` joins it instead of nesting a savepoint, which on PostgreSQL would
//! be two round trips more per job, taken while the session's row is locked. If any job
//! fails (or swallows a failed statement), that attempt is rolled back whole and the batch
//! runs again, each job's transaction a savepoint this time, so the one that fails rolls
//! back alone and the others are stored, as if they had run one after the other. A
//! job's work may therefore run twice; only the last run counts, the first was rolled
//! back. The jobs of a batch see each other's writes in queue order. No answer leaves
//! before its batch is committed: if the commit fails, every job of the batch answers
//! with that error and nothing of it is stored.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;

use super::{DbConn, DbManager, DbPool, DbUrl, SQLITE_WRITER};

/// Jobs committed together at most: bounds the wait of the first job of a batch for the
/// last (a job is a fraction of a millisecond).
pub const MAX_BATCH: usize = 64;

/// Writer threads for enrollments on PostgreSQL (one connection each, beside the pool).
pub const PG_LANES: usize = 4;

/// A queued write: run once or twice (see the module's notes), answered once.
trait Job: Send {
    /// Runs the work on the batch's connection; whether it succeeded.
    fn run(&mut self, conn: &mut DbConn) -> bool;
    /// Answers the caller: with the last run's result if the batch was committed
    /// (`failed` is `None`), else with the batch's failure.
    fn answer(self: Box<Self>, failed: Option<&str>);
}

/// A job's work, its latest result and where its caller waits.
struct Pending<T, E, F> {
    work: F,
    result: Option<Result<T, E>>,
    caller: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for Pending<T, E, F>
where
    T: Send,
    E: From<DieselError> + Send,
    F: FnMut(&mut DbConn) -> Result<T, E> + Send,
{
    fn run(&mut self, conn: &mut DbConn) -> bool {
        let result = (self.work)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, failed: Option<&str>) {
        let settled = match (failed, self.result) {
            (None, Some(result)) => result,
            (Some(message), _) => Err(E::from(batch_error(message))),
            (None, None) => Err(E::from(batch_error("the write was not run"))),
        };
        // The caller may have gone (a dropped request): nothing to tell.
        let _ = self.caller.send(settled);
    }
}

/// A job and, for an enrollment, its session and person (which PostgreSQL's lanes batch
/// by and lock first).
struct Queued {
    session: Option<String>,
    person: Option<String>,
    job: Box<dyn Job>,
}

/// Where the hot writes go: the writer thread on SQLite, the lanes (enrollments) and the
/// pool (the rest) on PostgreSQL.
pub struct Writer {
    pool: DbPool,
    lanes: Vec<mpsc::Sender<Queued>>,
    sqlite: bool,
}

fn batch_error(message: &str) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string()))
}

impl Writer {
    /// Starts the writer thread for a SQLite database, or the lanes for PostgreSQL (their
    /// connections opened like the pool's). The threads end when the last `Writer` handle
    /// is dropped.
    pub fn start(pool: DbPool, url: &DbUrl) -> anyhow::Result<Self> {
        let (sqlite, threads) = match url {
            DbUrl::Postgres(_) => (false, PG_LANES),
            DbUrl::Sqlite(_) => (true, 1),
        };
        let mut lanes = Vec::with_capacity(threads);
        for lane in 0..threads {
            let manager = DbManager::new(url.clone());
            let conn = r2d2::ManageConnection::connect(&manager)?;
            let (queue, jobs) = mpsc::channel::<Queued>();
            let name = if sqlite {
                "sqlite-writer".to_string()
            } else {
                format!("pg-writer-{lane}")
            };
            std::thread::Builder::new()
                .name(name)
                .spawn(move || serve(manager, conn, jobs))?;
            lanes.push(queue);
        }
        Ok(Self {
            pool,
            lanes,
            sqlite,
        })
    }

    /// Runs `work` as the writer's next job (SQLite) or on a pooled connection
    /// (PostgreSQL) and gives its result once it is committed. `work` is written as for
    /// any connection: its transactions (`db::write_transaction`) are its own. It may be
    /// run twice (the first run rolled back: see the module's notes), so it must do
    /// nothing but database work.
    pub async fn run<T, E, F>(&self, mut work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DieselError> + From<r2d2::Error> + Send + 'static,
        F: FnMut(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        if !self.sqlite {
            let pool = self.pool.clone();
            return match actix_web::web::block(move || work(&mut *pool.get()?)).await {
                Ok(result) => result,
                Err(_) => Err(E::from(batch_error("the database task was lost"))),
            };
        }
        self.queue(0, None, None, work).await
    }

    /// As `run`, for a write by `person` in the course session `session` (an enrollment):
    /// on PostgreSQL it is batched with the others of that session in its lane.
    pub async fn run_in_session<T, E, F>(
        &self,
        session: &str,
        person: &str,
        work: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DieselError> + From<r2d2::Error> + Send + 'static,
        F: FnMut(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        if self.sqlite {
            return self.queue(0, None, None, work).await;
        }
        let lane = lane_of(session, self.lanes.len());
        self.queue(
            lane,
            Some(session.to_string()),
            Some(person.to_string()),
            work,
        )
        .await
    }

    async fn queue<T, E, F>(
        &self,
        lane: usize,
        session: Option<String>,
        person: Option<String>,
        work: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DieselError> + From<r2d2::Error> + Send + 'static,
        F: FnMut(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (caller, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let queued = Queued {
            session,
            person,
            job: Box::new(Pending {
                work,
                result: None,
                caller,
            }),
        };
        if self.lanes[lane].send(queued).is_err() {
            return Err(E::from(batch_error("the database writer has stopped")));
        }
        // Every queued job is answered; a writer thread that stopped drops its jobs.
        answered
            .await
            .unwrap_or_else(|_| Err(E::from(batch_error("the write failed"))))
    }
}

/// The lane of a session: the same one every time, spread evenly.
fn lane_of(session: &str, lanes: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    session.hash(&mut hasher);
    (hasher.finish() % lanes as u64) as usize
}

/// The next batch from what waits, in queue order: on SQLite anything (one writer for
/// all), on PostgreSQL the jobs of the first one's session only.
fn next_batch(waiting: &mut VecDeque<Queued>) -> Vec<Queued> {
    let Some(first) = waiting.pop_front() else {
        return Vec::new();
    };
    let session = first.session.clone();
    let mut batch = vec![first];
    let mut rest = VecDeque::with_capacity(waiting.len());
    while let Some(next) = waiting.pop_front() {
        if batch.len() < MAX_BATCH && next.session == session {
            batch.push(next);
        } else {
            rest.push_back(next);
        }
    }
    *waiting = rest;
    batch
}

fn begin(conn: &mut DbConn) -> Result<(), DieselError> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
    }
}

/// Commits the open transaction. `Probe` is a failure found before the commit was sent
/// (nothing was stored); `Commit` one of the commit itself.
fn commit(conn: &mut DbConn) -> Result<(), Unstored> {
    match conn {
        DbConn::Sqlite(c) => {
            <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(c)
                .map_err(Unstored::Commit)
        }
        DbConn::Postgres(c) => {
            // A statement that failed outside any job's savepoint leaves the transaction
            // aborted, and PostgreSQL answers COMMIT to it with a silent rollback: ask
            // first, so such a batch is never reported committed.
            c.batch_execute("SELECT 1").map_err(Unstored::Probe)?;
            <AnsiTransactionManager as TransactionManager<PgConnection>>::commit_transaction(c)
                .map_err(Unstored::Commit)
        }
    }
}

enum Unstored {
    Probe(DieselError),
    Commit(DieselError),
}

fn rollback(conn: &mut DbConn) {
    let _ = match conn {
        DbConn::Sqlite(c) => {
            <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(
                c,
            )
        }
        DbConn::Postgres(c) => {
            <AnsiTransactionManager as TransactionManager<PgConnection>>::rollback_transaction(c)
        }
    };
}

/// A writer thread: batches of queued jobs, each batch one transaction.
fn serve(manager: DbManager, mut conn: DbConn, jobs: mpsc::Receiver<Queued>) {
    let mut waiting: VecDeque<Queued> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match jobs.recv() {
                Ok(first) => waiting.push_back(first),
                Err(_) => return,
            }
        }
        while let Ok(more) = jobs.try_recv() {
            waiting.push_back(more);
        }
        let batch = next_batch(&mut waiting);
        if !run_batch(&mut conn, batch) {
            // The connection's state is unknown (a panic, a failed begin or commit):
            // a fresh one serves the next batch; closing this one rolls back.
            match r2d2::ManageConnection::connect(&manager) {
                Ok(fresh) => conn = fresh,
                Err(e) => {
                    tracing::error!(error = %e, "a database writer cannot reopen its connection")
                }
            }
        }
    }
}

/// What this thread's batch asks of the transactions opened inside it.
struct Scope {
    /// Join the batch's transaction instead of nesting a savepoint.
    join: bool,
    /// A joined transaction failed: this attempt must be rolled back.
    failed: bool,
    /// The people the batch locked, sorted.
    people: Vec<String>,
}

thread_local! {
    /// The batch this writer thread is running, if any.
    static SCOPE: std::cell::RefCell<Option<Scope>> = const { std::cell::RefCell::new(None) };
}

/// Whether a transaction opened now (inside an open one) should join it instead of
/// nesting a savepoint: inside a writer's first attempt at a batch.
pub(super) fn joins_open_transaction() -> bool {
    SCOPE.with(|scope| scope.borrow().as_ref().is_some_and(|scope| scope.join))
}

/// Tells the writer that a transaction which joined its batch failed: the attempt is
/// rolled back and the batch runs again with savepoints.
pub(super) fn joined_transaction_failed() {
    SCOPE.with(|scope| {
        if let Some(scope) = scope.borrow_mut().as_mut() {
            scope.failed = true;
        }
    });
}

/// Whether the batch running on this thread holds the row lock of `user_id` (PostgreSQL's
/// lanes lock the people of a batch first): taking it again is a round trip for nothing.
pub(crate) fn batch_holds_lock_of(user_id: &str) -> bool {
    SCOPE.with(|scope| {
        scope.borrow().as_ref().is_some_and(|scope| {
            scope
                .people
                .binary_search_by(|locked| locked.as_str().cmp(user_id))
                .is_ok()
        })
    })
}

/// Sets this thread's scope for the length of an attempt.
struct ScopeGuard;

impl ScopeGuard {
    fn enter(join: bool, people: &[String]) -> Self {
        SCOPE.with(|scope| {
            *scope.borrow_mut() = Some(Scope {
                join,
                failed: false,
                people: people.to_vec(),
            })
        });
        ScopeGuard
    }

    /// Whether a transaction that joined the batch failed.
    fn failed(&self) -> bool {
        SCOPE.with(|scope| scope.borrow().as_ref().is_some_and(|scope| scope.failed))
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPE.with(|scope| *scope.borrow_mut() = None);
    }
}

/// How an attempt at a batch ended.
enum Attempt {
    Committed,
    /// A job failed in a joined transaction: rolled back, nothing stored, the connection
    /// fine; the batch must run again with savepoints.
    Again,
    /// Nothing stored; whether the connection can go on.
    Lost {
        message: String,
        healthy: bool,
    },
}

/// Runs one batch in one transaction and answers its jobs; `false` if the connection
/// should be replaced.
fn run_batch(conn: &mut DbConn, mut batch: Vec<Queued>) -> bool {
    let _turn = matches!(conn, DbConn::Sqlite(_)).then(|| {
        SQLITE_WRITER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    });
    let mut people: Vec<String> = batch.iter().filter_map(|q| q.person.clone()).collect();
    people.sort_unstable();
    people.dedup();
    let mut outcome = attempt(conn, &mut batch, &people, true);
    if matches!(outcome, Attempt::Again) {
        outcome = attempt(conn, &mut batch, &people, false);
    }
    drop(_turn);
    let (failed, healthy) = match outcome {
        Attempt::Committed => (None, true),
        Attempt::Again => (Some("the write could not be stored".to_string()), true),
        Attempt::Lost { message, healthy } => (Some(message), healthy),
    };
    for queued in batch {
        queued.job.answer(failed.as_deref());
    }
    healthy
}

/// Runs the jobs of a batch in one transaction, in the batch's own (`join`) or each in a
/// savepoint, and commits them.
fn attempt(conn: &mut DbConn, batch: &mut [Queued], people: &[String], join: bool) -> Attempt {
    let person_ids: Vec<&str> = people.iter().map(String::as_str).collect();
    let started = begin(conn).and_then(|()| {
        crate::models::users::lock_all(conn, &person_ids).inspect_err(|_| rollback(conn))
    });
    if let Err(e) = started {
        return Attempt::Lost {
            message: format!("could not begin a write: {e}"),
            healthy: false,
        };
    }
    let scope = ScopeGuard::enter(join, people);
    for queued in batch.iter_mut() {
        match catch_unwind(AssertUnwindSafe(|| queued.job.run(conn))) {
            Ok(true) => {}
            Ok(false) if join => {
                rollback(conn);
                return Attempt::Again;
            }
            // Its own savepoint was rolled back; the rest go on.
            Ok(false) => {}
            Err(_) => {
                // The rest are not run: the batch is lost with the job that panicked (its
                // connection, in an unknown state, is closed, which rolls back).
                return Attempt::Lost {
                    message: "a write in the same batch failed; nothing of it was stored"
                        .to_string(),
                    healthy: false,
                };
            }
        }
    }
    // A job may have caught a joined transaction's failure and gone on.
    if join && scope.failed() {
        rollback(conn);
        return Attempt::Again;
    }
    drop(scope);
    match commit(conn) {
        Ok(()) => Attempt::Committed,
        // A failed statement swallowed outside any transaction of a job.
        Err(Unstored::Probe(_)) if join => {
            rollback(conn);
            Attempt::Again
        }
        Err(Unstored::Probe(e) | Unstored::Commit(e)) => {
            rollback(conn);
            Attempt::Lost {
                message: format!("the write could not be committed: {e}"),
                healthy: false,
            }
        }
    }
}
