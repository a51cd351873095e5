//! Backups: `ocod backup` on SQLite while the server writes, and a PostgreSQL dump
//! restored with `pg_restore`; each copy must serve.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_on, unique_phone, TestApp, TestDb};

fn on_postgres() -> bool {
    std::env::var("OCOD_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// A resident registered over HTTP, with a password the copy must still accept.
async fn known_resident(app: &TestApp) -> (String, String) {
    let phone = unique_phone();
    let res = app
        .register(
            json!({ "phone": phone, "password": "backup-pass-1", "display_name": "ก่อนสำรอง" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user: Value = res.json().await.unwrap();
    (phone, user["user"]["id"].as_str().unwrap().to_string())
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn a_sqlite_backup_taken_under_concurrent_writes_is_intact_and_serves() {
    if on_postgres() {
        eprintln!("PostgreSQL run: see a_postgres_dump_restores_into_a_fresh_database_that_serves");
        return;
    }
    let app = spawn_app().await;
    let net = app.network().await;
    let session_id = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 500)
        .await;
    let (phone, _) = known_resident(&app).await;
    let residents = app.many_residents(400).await;

    // Four writers enroll residents as fast as the server takes them.
    let acked = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for chunk in residents.chunks(100) {
        let chunk = chunk.to_vec();
        let (client, base, acked) = (app.client.clone(), app.address.clone(), acked.clone());
        let path = format!("{base}/api/v1/sessions/{session_id}/enrollments");
        writers.push(tokio::spawn(async move {
            for resident in chunk {
                let res = client
                    .post(&path)
                    .bearer_auth(&resident.access)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                acked.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    while acked.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("nested").join("ocod-backup.db");
    let before = acked.load(Ordering::SeqCst);
    let (db_url, copy_arg) = (app.db.url().to_string(), copy.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ocod"))
            .arg("backup")
            .arg(&copy_arg)
            .env_clear()
            .env("DATABASE_URL", db_url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let after = acked.load(Ordering::SeqCst);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity ok"));
    for w in writers {
        w.await.unwrap();
    }
    assert!(
        after < residents.len(),
        "the backup should overlap the writes ({after} of {} done when it finished)",
        residents.len()
    );

    // Checked independently of the command's own check.
    let path = copy.to_str().unwrap().to_string();
    let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        check
            .iter()
            .map(|c| c.integrity_check.as_str())
            .collect::<Vec<_>>(),
        ["ok"]
    );
    let in_copy = diesel::sql_query("SELECT COUNT(*) AS n FROM enrollments")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n as usize;
    assert!(
        (before..=after).contains(&in_copy),
        "the copy holds {in_copy} enrollments; {before} were acknowledged before it began \
         and {after} when it ended"
    );
    // Seats and waitlist in the copy are those of one instant: no half-done enrollment.
    let seated = diesel::sql_query(format!(
        "SELECT seats_taken AS n FROM course_sessions WHERE id = '{session_id}'"
    ))
    .get_result::<Count>(&mut conn)
    .unwrap()
    .n as usize;
    assert_eq!(seated, in_copy);
    drop(conn);
    assert!(!dir.path().join("nested/ocod-backup.db.partial").exists());

    // The copy serves: the resident registered before the backup logs in.
    let restored = TestDb::Sqlite {
        _dir: dir,
        url: path,
    };
    let copy_app = spawn_on(Arc::new(restored), &[]).await;
    let res = copy_app.login(&phone, "backup-pass-1").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(copy_app.count("enrollments").await as usize, in_copy);

    // A second backup to the same name is refused rather than overwriting it.
    let again = Command::new(env!("CARGO_BIN_EXE_ocod"))
        .arg("backup")
        .arg(&copy)
        .env_clear()
        .env("DATABASE_URL", app.db.url())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn a_postgres_dump_restores_into_a_fresh_database_that_serves() {
    if !on_postgres() {
        eprintln!(
            "SQLite run: see a_sqlite_backup_taken_under_concurrent_writes_is_intact_and_serves"
        );
        return;
    }
    let app = spawn_app().await;
    let net = app.network().await;
    let session_id = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let (phone, _) = known_resident(&app).await;
    let login: Value = app
        .login(&phone, "backup-pass-1")
        .await
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.enroll(&session_id, &token).await.status(),
        StatusCode::CREATED
    );

    // As the README says: a custom-format dump, restored into an empty database.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("ocod.dump");
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(app.db.url())
        .output()
        .expect("pg_dump is installed with PostgreSQL");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let fresh = TestDb::create();
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(fresh.url())
        .arg(&dump)
        .output()
        .expect("pg_restore is installed with PostgreSQL");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let restored = spawn_on(Arc::new(fresh), &[]).await;
    let res = restored.login(&phone, "backup-pass-1").await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mine: Value = restored
        .get("/api/v1/me/enrollments", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["session"]["id"], session_id.as_str());
    // The restored database keeps working: a new enrollment takes the next seat.
    let other = restored.resident().await;
    let res = restored.enroll(&session_id, &other.access).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(restored.count("enrollments").await, 2);
}
