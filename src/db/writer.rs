//! The SQLite writer: one thread with its own connection runs the hottest writes (an
//! enrollment storm) one after another and commits each batch of them at once.
//!
//! SQLite has one writer at a time whatever we do. Run from the request threads, every
//! write hands the lock (the `SQLITE_WRITER` mutex) to another thread, which must be woken
//! and scheduled on a busy core first, finds its page cache stale because another
//! connection wrote, and commits alone. Here the jobs queue up while a batch runs; the
//! next batch takes all of them (up to `MAX_BATCH`) in one `BEGIN IMMEDIATE … COMMIT`
//! on a connection whose cache stays warm. Each job's own `write_transaction` becomes a
//! savepoint inside the batch, so a job that fails rolls back alone, as before; the jobs
//! of a batch see each other's writes in queue order, as they would have one after the
//! other. No answer leaves before its batch is committed: if the commit fails, every job
//! of the batch answers with that error and nothing of it is stored.
//!
//! On PostgreSQL there is no writer thread: jobs run on the pool's blocking threads, as
//! row locks let writers of different sessions proceed together.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;

use super::{DbConn, DbManager, DbPool, DbUrl, SQLITE_WRITER};

/// Jobs committed together at most: bounds the wait of the first job of a batch for the
/// last (a job is a fraction of a millisecond).
pub const MAX_BATCH: usize = 64;

/// Hands the committed outcome (`None`: committed; `Some(message)`: the batch failed) to
/// the job's caller.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;
/// Runs on the writer's connection (`None`: the batch could not begin) and returns how to
/// answer once the batch is settled.
type Job = Box<dyn FnOnce(Option<&mut DbConn>) -> Deliver + Send>;

/// Where the hot writes go: the writer thread on SQLite, the pool on PostgreSQL.
pub struct Writer {
    pool: DbPool,
    queue: Option<mpsc::Sender<Job>>,
}

fn batch_error(message: &str) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string()))
}

impl Writer {
    /// Starts the writer thread for a SQLite database (its connection opened like the
    /// pool's); on PostgreSQL only keeps the pool. The thread ends when the last `Writer`
    /// handle is dropped.
    pub fn start(pool: DbPool, url: &DbUrl) -> anyhow::Result<Self> {
        let queue = match url {
            DbUrl::Postgres(_) => None,
            DbUrl::Sqlite(_) => {
                let manager = DbManager::new(url.clone());
                let conn = r2d2::ManageConnection::connect(&manager)?;
                let (queue, jobs) = mpsc::channel::<Job>();
                std::thread::Builder::new()
                    .name("sqlite-writer".into())
                    .spawn(move || serve(manager, conn, jobs))?;
                Some(queue)
            }
        };
        Ok(Self { pool, queue })
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
        let Some(queue) = &self.queue else {
            let pool = self.pool.clone();
            return match actix_web::web::block(move || work(&mut *pool.get()?)).await {
                Ok(result) => result,
                Err(_) => Err(E::from(batch_error("the database task was lost"))),
            };
        };
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
        if queue.send(job).is_err() {
            return Err(E::from(batch_error("the database writer has stopped")));
        }
        // A job whose work panicked is dropped without an answer.
        answered
            .await
            .unwrap_or_else(|_| Err(E::from(batch_error("the write failed"))))
    }
}

fn inner(conn: &mut DbConn) -> &mut SqliteConnection {
    match conn {
        DbConn::Sqlite(inner) => inner,
        DbConn::Postgres(_) => unreachable!("the writer thread is started for SQLite only"),
    }
}

/// The writer thread: batches of queued jobs, each batch one transaction.
fn serve(manager: DbManager, mut conn: DbConn, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let _turn = SQLITE_WRITER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) =
            AnsiTransactionManager::begin_transaction_sql(inner(&mut conn), "BEGIN IMMEDIATE")
        {
            let message = format!("could not begin a write: {e}");
            for job in batch {
                job(None)(Some(&message));
            }
            continue;
        }
        let mut delivers = Vec::with_capacity(batch.len());
        let mut panicked = false;
        for job in batch {
            if panicked {
                // Not run: the batch is lost with the job that panicked.
                delivers.push(job(None));
                continue;
            }
            match catch_unwind(AssertUnwindSafe(|| job(Some(&mut conn)))) {
                Ok(deliver) => delivers.push(deliver),
                Err(_) => panicked = true,
            }
        }
        let failed = if panicked {
            // The connection's transaction state is unknown after a panic: closing it
            // rolls the batch back; a fresh one serves the next batch.
            match r2d2::ManageConnection::connect(&manager) {
                Ok(fresh) => conn = fresh,
                Err(e) => {
                    tracing::error!(error = %e, "the SQLite writer cannot reopen its connection")
                }
            }
            Some("a write in the same batch failed; nothing of it was stored".to_string())
        } else {
            match <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(inner(&mut conn)) {
                Ok(()) => None,
                Err(e) => {
                    let _ = <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(inner(&mut conn));
                    Some(format!("the write could not be committed: {e}"))
                }
            }
        };
        drop(_turn);
        for deliver in delivers {
            deliver(failed.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{build_pool, write_transaction};
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    /// The error of the test jobs: what `run` asks of a caller's error type.
    #[derive(Debug)]
    enum TestError {
        Db(DieselError),
        Pool,
    }

    impl From<DieselError> for TestError {
        fn from(e: DieselError) -> Self {
            Self::Db(e)
        }
    }

    impl From<r2d2::Error> for TestError {
        fn from(_: r2d2::Error) -> Self {
            Self::Pool
        }
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn setup() -> (tempfile::TempDir, DbPool, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::parse(dir.path().join("w.db").to_str().unwrap()).unwrap();
        let pool = build_pool(&url, 2).unwrap();
        diesel::sql_query("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)")
            .execute(&mut *pool.get().unwrap())
            .unwrap();
        let writer = Writer::start(pool.clone(), &url).unwrap();
        (dir, pool, writer)
    }

    fn stored(pool: &DbPool) -> i64 {
        diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<Count>(&mut *pool.get().unwrap())
            .unwrap()
            .n
    }

    fn insert(x: i64) -> impl FnOnce(&mut DbConn) -> Result<(), TestError> + Send + 'static {
        move |conn| {
            write_transaction(conn, |conn| {
                diesel::sql_query(format!("INSERT INTO t (x) VALUES ({x})")).execute(conn)?;
                Ok(())
            })
        }
    }

    /// Many jobs queued at once are batched; one that fails (a duplicate) rolls back alone
    /// and answers its own error, the others are all stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_rolls_back_alone_and_the_rest_of_its_batch_commits() {
        let (_dir, pool, writer) = setup();
        let writer = std::sync::Arc::new(writer);
        // 0..300, with every tenth value asked for twice.
        let values: Vec<i64> = (0..300).chain((0..300).step_by(10)).collect();
        let tasks: Vec<_> = values
            .into_iter()
            .map(|x| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.run(insert(x)).await })
            })
            .collect();
        let mut failed = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => {}
                Err(TestError::Db(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    _,
                ))) => failed += 1,
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(failed, 30, "each duplicate fails on its own");
        assert_eq!(stored(&pool), 300);
    }

    /// A job that panics loses its batch (every job of it answers an error, nothing of it
    /// is stored) and the writer goes on with a fresh connection.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_loses_only_its_batch_and_the_next_write_commits() {
        let (_dir, pool, writer) = setup();
        let answer = writer
            .run(|conn| -> Result<(), TestError> {
                insert(1)(conn)?;
                panic!("a bug in a handler");
            })
            .await;
        assert!(answer.is_err(), "the panicking job answers an error");
        assert_eq!(stored(&pool), 0, "nothing of the lost batch is stored");
        writer.run(insert(2)).await.unwrap();
        assert_eq!(stored(&pool), 1);
    }

    /// An answer means committed: another connection sees the row as soon as `run`
    /// returns.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_is_given_only_after_the_commit() {
        let (_dir, pool, writer) = setup();
        for x in 0..20 {
            writer.run(insert(x)).await.unwrap();
            assert_eq!(stored(&pool), x + 1);
        }
    }
}
