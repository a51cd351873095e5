//! The writers (`db::Writer`) on the backend under test: the SQLite writer thread, or
//! PostgreSQL's lanes, which batch the enrollments of one session in one transaction.
//! An answer of success means stored; a job that fails rolls back alone.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::BigInt;

use ocod::db::{self, DbConn, DbPool, DbUrl, Writer};

use crate::helpers::TestDb;

#[derive(Debug)]
enum JobError {
    Db(DieselError),
    Pool,
}

impl From<DieselError> for JobError {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

impl From<r2d2::Error> for JobError {
    fn from(_: r2d2::Error) -> Self {
        Self::Pool
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn setup(db: &TestDb) -> (DbPool, Arc<Writer>) {
    let url = DbUrl::parse(db.url()).unwrap();
    let pool = db::build_pool(&url, 4).unwrap();
    db::run_migrations(&mut pool.get().unwrap()).unwrap();
    pool.get()
        .unwrap()
        .batch_execute("CREATE TABLE writer_rows (x BIGINT NOT NULL UNIQUE)")
        .unwrap();
    let writer = Arc::new(Writer::start(pool.clone(), &url).unwrap());
    (pool, writer)
}

fn stored(pool: &DbPool, x: Option<i64>) -> i64 {
    let sql = match x {
        Some(x) => format!("SELECT count(*) AS n FROM writer_rows WHERE x = {x}"),
        None => "SELECT count(*) AS n FROM writer_rows".to_string(),
    };
    diesel::sql_query(sql)
        .get_result::<Count>(&mut *pool.get().unwrap())
        .unwrap()
        .n
}

fn insert(conn: &mut DbConn, x: i64) -> Result<(), JobError> {
    db::write_transaction(conn, |conn| {
        diesel::sql_query(format!("INSERT INTO writer_rows (x) VALUES ({x})")).execute(conn)?;
        Ok(())
    })
}

/// Enrollments of a few sessions arriving together, every tenth asked for twice: each
/// duplicate fails on its own (its batch commits the rest), and every other is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_session_commit_together_and_a_failing_one_rolls_back_alone() {
    let db = TestDb::create();
    let (pool, writer) = setup(&db);
    let values: Vec<i64> = (0..400).chain((0..400).step_by(10)).collect();
    let tasks: Vec<_> = values
        .into_iter()
        .map(|x| {
            let writer = Arc::clone(&writer);
            tokio::spawn(async move {
                let session = format!("session-{}", x % 3);
                let person = format!("person-{x}");
                writer
                    .run_in_session(&session, &person, move |conn| insert(conn, x))
                    .await
            })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(JobError::Db(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) => failed += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(failed, 40, "each duplicate fails on its own");
    assert_eq!(stored(&pool, None), 400);
}

/// A job that lets a statement fail outside its own transaction: PostgreSQL then aborts
/// the batch's transaction and answers COMMIT with a silent rollback. The job must not
/// be told it was stored when it was not (SQLite keeps the rest of the transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_of_success_means_stored_even_after_a_stray_failed_statement() {
    let db = TestDb::create();
    let (pool, writer) = setup(&db);
    let answer = writer
        .run_in_session("session", "person", |conn| -> Result<(), JobError> {
            insert(conn, 7)?;
            // An error swallowed by a careless job.
            let _ = diesel::sql_query("SELECT * FROM no_such_table").execute(conn);
            Ok(())
        })
        .await;
    let kept = stored(&pool, Some(7));
    assert_eq!(
        answer.is_ok(),
        kept == 1,
        "answered {answer:?}, stored {kept}"
    );
    // The lane goes on: the next job is stored and says so.
    writer
        .run_in_session("session", "person", |conn| insert(conn, 8))
        .await
        .unwrap();
    assert_eq!(stored(&pool, Some(8)), 1);
}

/// A job that panics loses its batch (it answers an error, nothing of it is stored) and
/// the writer goes on with a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_loses_only_its_batch_and_the_next_write_commits() {
    let db = TestDb::create();
    let (pool, writer) = setup(&db);
    let answer = writer
        .run_in_session("session", "person", |conn| -> Result<(), JobError> {
            insert(conn, 1)?;
            panic!("a bug in a handler");
        })
        .await;
    assert!(answer.is_err(), "the panicking job answers an error");
    assert_eq!(
        stored(&pool, None),
        0,
        "nothing of the lost batch is stored"
    );
    writer
        .run_in_session("session", "person", |conn| insert(conn, 2))
        .await
        .unwrap();
    assert_eq!(stored(&pool, None), 1);
}

/// An answer means committed: another connection sees the row as soon as it is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_is_given_only_after_the_commit() {
    let db = TestDb::create();
    let (pool, writer) = setup(&db);
    for x in 0..20 {
        writer
            .run_in_session("session", "person", move |conn| insert(conn, x))
            .await
            .unwrap();
        assert_eq!(stored(&pool, None), x + 1);
    }
}

/// A job that gives up one of its transactions and goes on (a refusal it answers with, or
/// a conflict it maps): what that transaction wrote is undone, what the job wrote outside
/// it is stored, and so are the other jobs of the batch. The writer first runs a batch
/// without savepoints, so it must notice the failure and run the batch again with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_given_up_inside_a_job_is_undone_and_the_rest_is_stored() {
    let db = TestDb::create();
    let (pool, writer) = setup(&db);
    let tasks: Vec<_> = (0..200)
        .map(|x| {
            let writer = Arc::clone(&writer);
            tokio::spawn(async move {
                let person = format!("person-{x}");
                writer
                    .run_in_session("session", &person, move |conn| -> Result<(), JobError> {
                        insert(conn, x)?;
                        if x % 50 == 7 {
                            let given_up = db::write_transaction(conn, |conn| {
                                insert(conn, 1000 + x)?;
                                Err::<(), _>(JobError::Pool)
                            });
                            assert!(given_up.is_err());
                        }
                        Ok(())
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        stored(&pool, None),
        200,
        "every job's own row, no given-up one"
    );
    for x in (0..200).filter(|x| x % 50 == 7) {
        assert_eq!(stored(&pool, Some(x)), 1);
        assert_eq!(stored(&pool, Some(1000 + x)), 0, "undone: {}", 1000 + x);
    }
}
