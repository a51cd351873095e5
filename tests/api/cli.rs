//! The `ocod` binary: configuration errors are clear, and `user create` makes accounts
//! the API accepts.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, TEST_SECRET};

fn ocod(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ocod"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run ocod")
}

#[tokio::test]
async fn user_create_makes_an_admin_who_can_log_in() {
    let app = spawn_app().await;
    let out = ocod(
        app.db.url(),
        &[
            "user",
            "create",
            "--role",
            "admin",
            "--email",
            "Chief@Example.co.th",
            "--password",
            "admin-password",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = app.login("chief@example.co.th", "admin-password").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");

    let again = ocod(
        app.db.url(),
        &[
            "user",
            "create",
            "--role",
            "staff",
            "--email",
            "chief@example.co.th",
            "--password",
            "x-password",
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = ocod(
        app.db.url(),
        &[
            "user",
            "create",
            "--role",
            "staff",
            "--phone",
            "12",
            "--password",
            "x-password",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--phone"));
}

#[test]
fn an_unknown_database_scheme_is_refused_clearly() {
    let out = ocod("mysql://root@localhost/ocod", &["migrate"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scheme `mysql` is not supported"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_to_start_without_a_secret_outside_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let out = ocod(db.to_str().unwrap(), &["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OCOD_JWT_SECRET is not set"), "{stderr}");
    assert!(!TEST_SECRET.is_empty());
}
