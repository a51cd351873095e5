//! PDPA: a person's copy of their data, and erasure.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem_code, spawn_app, TestApp};

#[tokio::test]
async fn an_export_holds_my_data_and_nothing_of_anyone_else() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let alice = TestApp::signed_in_from(
        app.register(
            json!({ "phone": "0811111111", "password": "password-1", "display_name": "Alice" }),
        )
        .await,
    )
    .await;
    let bob = TestApp::signed_in_from(app.register(json!({ "phone": "0822222222", "password": "password-2", "display_name": "Bob Builder" })).await).await;
    for (who, token) in [(&alice, "alice-phone-token"), (&bob, "bob-phone-token")] {
        app.post_json(
            "/api/v1/me/devices",
            &json!({ "token": token, "platform": "android" }),
            Some(&who.access),
        )
        .await;
        app.enroll(&session, &who.access).await;
    }
    app.login("0811111111", "wrong-password").await;

    let res = app.get("/api/v1/me/export", Some(&alice.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["profile"]["phone"], "+66811111111");
    assert_eq!(export["enrollments"].as_array().unwrap().len(), 1);
    assert_eq!(export["enrollments"][0]["session"]["id"], session.as_str());
    assert_eq!(export["devices"][0]["token"], "alice-phone-token");
    assert_eq!(
        export["notifications"].as_array().unwrap().len(),
        2,
        "two reminders scheduled"
    );
    assert!(!export["login_sessions"].as_array().unwrap().is_empty());
    assert_eq!(
        export["login_attempts_recorded"].as_array().unwrap().len(),
        1
    );
    for other in [
        "+66822222222",
        "Bob Builder",
        "bob-phone-token",
        bob.user_id.as_str(),
    ] {
        assert!(!text.contains(other), "the export leaks {other}");
    }
    assert_eq!(
        app.get("/api/v1/me/export", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn erasing_an_account_removes_personal_data_frees_seats_and_ends_every_login() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let alice = TestApp::signed_in_from(app.register(json!({ "email": "alice@example.co.th", "password": "password-1", "display_name": "Alice" })).await).await;
    let bob = app.resident().await;
    app.post_json(
        "/api/v1/me/devices",
        &json!({ "token": "alice-phone", "platform": "ios" }),
        Some(&alice.access),
    )
    .await;
    app.enroll(&session, &alice.access).await;
    app.enroll(&session, &bob.access).await;

    let res = app.delete("/api/v1/me", Some(&alice.access)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Every token stops at once, and the account cannot log in again.
    assert_eq!(
        problem_code(app.get("/api/v1/me", Some(&alice.access)).await).await,
        "session_revoked"
    );
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": alice.refresh }),
            None,
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        problem_code(app.login("alice@example.co.th", "password-1").await).await,
        "invalid_credentials"
    );
    // The e-mail is free for a new account.
    let again = app.register(json!({ "email": "alice@example.co.th", "password": "password-1", "display_name": "Alice again" })).await;
    assert_eq!(again.status(), StatusCode::CREATED);

    // Her seat went to Bob, who is told; her device and pending pushes are gone.
    let bobs: Value = app
        .get("/api/v1/me/enrollments", Some(&bob.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["items"][0]["status"], "confirmed");
    let kinds: Vec<String> = app.notification_kinds(&bob.user_id).await;
    assert!(
        kinds.contains(&"waitlist_promoted".to_string()),
        "{kinds:?}"
    );
    assert!(app.notifications_of(&alice.user_id).await.is_empty());
    assert_eq!(app.count("devices").await, 0);

    // What remains: an anonymous row and an audit record without personal data.
    let roster: Value = app
        .get(
            &format!("/api/v1/sessions/{session}/enrollments"),
            Some(&net.staff.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(!roster.to_string().contains("alice@example.co.th"));
    let users: Value = app
        .get("/api/v1/admin/users?limit=100", Some(&net.admin.access))
        .await
        .json()
        .await
        .unwrap();
    let erased = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == alice.user_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (erased["email"].clone(), erased["phone"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(erased["display_name"], ocod::privacy::ERASED_NAME);
    let pool = app.pool.clone();
    let audit: Vec<(String, String)> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use ocod::schema::audit_log::dsl as a;
        a::audit_log
            .filter(a::action.eq("account_erased"))
            .select((a::action, a::actor_id))
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        audit,
        vec![("account_erased".to_string(), alice.user_id.clone())]
    );
}

/// Every login key the throttle has recorded.
async fn recorded_login_keys(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        login_key: String,
    }
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        diesel::sql_query("SELECT login_key FROM login_failures")
            .load::<Key>(&mut pool.get().unwrap())
            .unwrap()
            .into_iter()
            .map(|k| k.login_key)
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn failed_logins_keep_no_phone_or_e_mail_in_clear_text_even_after_erasure() {
    let app = crate::helpers::spawn_app_with(&[("OCOD_LOGIN_MAX_FAILURES", "3")]).await;
    // A stranger's phone, typed in several ways, and an unknown e-mail.
    for typed in ["089-777-6655", "+66 89 777 6655", "0897776655"] {
        assert_eq!(
            app.login(typed, "guess-guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // One login however written: the fourth try is locked out.
    assert_eq!(
        app.login("66897776655", "guess-guess").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.login("Stranger@Example.com", "guess-guess").await;

    // An erased account's e-mail typed again after erasure.
    let me = TestApp::signed_in_from(
        app.register(json!({ "email": "erased@example.com", "password": "password-1", "display_name": "Gone" }))
            .await,
    )
    .await;
    assert_eq!(
        app.login("erased@example.com", "wrong-one").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.delete("/api/v1/me", Some(&me.access)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.login("erased@example.com", "wrong-two").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let keys = recorded_login_keys(&app).await;
    assert_eq!(keys.len(), 3 + 1 + 1, "{keys:?}");
    for key in &keys {
        assert!(
            key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()),
            "{key}"
        );
        for clear in ["897776655", "stranger", "erased", "example"] {
            assert!(!key.to_lowercase().contains(clear), "{key} holds {clear}");
        }
    }
}

#[tokio::test]
async fn no_phone_e_mail_or_password_reaches_a_log_line() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let db = crate::helpers::TestDb::create();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let logs = tempfile::NamedTempFile::new().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_ocod"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url())
        .env("OCOD_BIND", format!("127.0.0.1:{port}"))
        .env("OCOD_JWT_SECRET", crate::helpers::TEST_SECRET)
        .env("OCOD_LOG", "debug")
        .env("OCOD_LOG_FORMAT", "json")
        .stdout(logs.reopen().unwrap())
        .stderr(Stdio::from(logs.reopen().unwrap()))
        .spawn()
        .expect("start ocod serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();
    let phone = "0865554433";
    let email = "secret.person@example.com";
    let password = "my-very-own-passphrase";
    let res = post(
        "/api/v1/auth/register",
        json!({ "phone": phone, "email": email, "password": password, "display_name": "ลับ" }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Signed in, refused, taken, malformed, and at the console's form too.
    post(
        "/api/v1/auth/login",
        json!({ "login": email, "password": password }),
    )
    .await
    .unwrap();
    post(
        "/api/v1/auth/login",
        json!({ "login": "+66865554433", "password": "wrong-passphrase-1" }),
    )
    .await
    .unwrap();
    post(
        "/api/v1/auth/login",
        json!({ "login": "unknown.person@example.com", "password": "wrong-passphrase-2" }),
    )
    .await
    .unwrap();
    post(
        "/api/v1/auth/register",
        json!({ "phone": phone, "password": password, "display_name": "ซ้ำ" }),
    )
    .await
    .unwrap();
    post(
        "/api/v1/auth/register",
        json!({ "phone": "08655x", "password": "short", "display_name": "x" }),
    )
    .await
    .unwrap();
    client
        .post(format!("{base}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"login\": \"{email}\", \"password\": \"{password}\""
        ))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/console/login"))
        .header("origin", &base)
        .form(&[("login", phone), ("password", "wrong-passphrase-3")])
        .send()
        .await
        .unwrap();

    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(logs.path()).unwrap();
    assert!(text.lines().count() > 5, "the server logged: {text}");
    for secret in [
        "865554433", // the phone however written
        "secret.person",
        "unknown.person",
        password,
        "wrong-passphrase",
        "08655x",
    ] {
        assert!(!text.contains(secret), "a log line holds {secret}:\n{text}");
    }
}
