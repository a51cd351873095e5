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
//! On both backends each job's own `write_transaction` becomes a savepoint inside the
//! batch, so a job that fails rolls back alone, as before; the jobs of a batch see each
//! other's writes in queue order, as they would have one after the other. No answer
//! leaves before its batch is committed: if the commit fails, every job of the batch
//! answers with that error and nothing of it is stored.

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

/// Hands the committed outcome (`None`: committed; `Some(message)`: the batch failed) to
/// the job's caller.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;
/// Runs on the writer's connection (`None`: the batch could not begin) and returns how to
/// answer once the batch is settled.
type Job = Box<dyn FnOnce(Option<&mut DbConn>) -> Deliver + Send>;

/// A job and, for an enrollment, its session and person (which PostgreSQL's lanes batch
/// by and lock first).
struct Queued {
    session: Option<String>,
    person: Option<String>,
    job: Job,
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
    /// any connection: its transactions (`db::write_transaction`) are its own.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DieselError> + From<r2d2::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
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
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
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
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: Option<&mut DbConn>| -> Deliver {
            let result = match conn {
                Some(conn) => work(conn),
                None => Err(E::from(batch_error("the database could not begin a write"))),
            };
            Box::new(move |failed: Option<&str>| {
                let settled = match failed {
                    None => result,
                    Some(message) => Err(E::from(batch_error(message))),
                };
                // The caller may have gone (a dropped request): nothing to tell.
                let _ = answer.send(settled);
            })
        });
        let queued = Queued {
            session,
            person,
            job,
        };
        if self.lanes[lane].send(queued).is_err() {
            return Err(E::from(batch_error("the database writer has stopped")));
        }
        // A job whose work panicked is dropped without an answer.
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

fn commit(conn: &mut DbConn) -> Result<(), DieselError> {
    match conn {
        DbConn::Sqlite(c) => {
            <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(c)
        }
        DbConn::Postgres(c) => {
            // A statement that failed outside any job's savepoint leaves the transaction
            // aborted, and PostgreSQL answers COMMIT to it with a silent rollback: ask
            // first, so such a batch is reported lost, never committed.
            c.batch_execute("SELECT 1")?;
            <AnsiTransactionManager as TransactionManager<PgConnection>>::commit_transaction(c)
        }
    }
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

/// Runs one batch in one transaction and answers its jobs; `false` if the connection
/// should be replaced.
fn run_batch(conn: &mut DbConn, batch: Vec<Queued>) -> bool {
    let _turn = matches!(conn, DbConn::Sqlite(_)).then(|| {
        SQLITE_WRITER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    });
    let mut people: Vec<&str> = batch.iter().filter_map(|q| q.person.as_deref()).collect();
    people.sort_unstable();
    people.dedup();
    let started = begin(conn).and_then(|()| {
        crate::models::users::lock_all(conn, &people).inspect_err(|_| rollback(conn))
    });
    if let Err(e) = started {
        let message = format!("could not begin a write: {e}");
        for queued in batch {
            (queued.job)(None)(Some(&message));
        }
        return false;
    }
    let mut delivers = Vec::with_capacity(batch.len());
    let mut panicked = false;
    for queued in batch {
        if panicked {
            // Not run: the batch is lost with the job that panicked.
            delivers.push((queued.job)(None));
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| (queued.job)(Some(&mut *conn)))) {
            Ok(deliver) => delivers.push(deliver),
            Err(_) => panicked = true,
        }
    }
    let failed = if panicked {
        Some("a write in the same batch failed; nothing of it was stored".to_string())
    } else {
        match commit(conn) {
            Ok(()) => None,
            Err(e) => {
                rollback(conn);
                Some(format!("the write could not be committed: {e}"))
            }
        }
    };
    drop(_turn);
    let healthy = failed.is_none();
    for deliver in delivers {
        deliver(failed.as_deref());
    }
    healthy
}
