//! Sign-up and login: normalisation, validation, identical failures, throttling.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    field_errors, problem_code, spawn_app, spawn_app_with, spawn_on, unique_phone,
};

#[tokio::test]
async fn registering_with_a_phone_stores_it_in_e164_and_logs_in() {
    let app = spawn_app().await;
    let res = app.register(json!({ "phone": "081-234-5678", "password": "รหัสผ่านของฉัน", "display_name": " สมศรี ใจดี " })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["phone"], "+66812345678");
    assert_eq!(body["user"]["display_name"], "สมศรี ใจดี");
    assert_eq!(body["user"]["role"], "resident");
    assert_eq!(body["user"]["locale"], "th");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["user"].get("password_hash").is_none());

    let me = app.get("/api/v1/me", body["access_token"].as_str()).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_same_phone_in_another_form_is_the_same_account() {
    let app = spawn_app().await;
    let first = app
        .register(json!({ "phone": "0812345678", "password": "password-1", "display_name": "A" }))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    for variant in ["+66812345678", "66 81 234 5678", "๐๘๑๒๓๔๕๖๗๘"] {
        let again = app
            .register(json!({ "phone": variant, "password": "password-2", "display_name": "B" }))
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT, "{variant}");
        assert_eq!(problem_code(again).await, "phone_taken");
    }
    for login in [
        "0812345678",
        "+66812345678",
        "66 81 234 5678",
        "081-234-5678",
    ] {
        assert_eq!(
            app.login(login, "password-1").await.status(),
            StatusCode::OK,
            "{login}"
        );
    }
}

#[tokio::test]
async fn registering_with_an_email_lowercases_it_and_duplicates_conflict() {
    let app = spawn_app().await;
    let res = app.register(json!({ "email": "Somchai@Example.CO.TH", "password": "password-1", "display_name": "Somchai", "locale": "en" })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], "somchai@example.co.th");
    assert_eq!(body["user"]["locale"], "en");
    let again = app.register(json!({ "email": "somchai@example.co.th", "password": "password-2", "display_name": "X" })).await;
    assert_eq!(problem_code(again).await, "email_taken");
    assert_eq!(
        app.login("SOMCHAI@example.co.th", "password-1")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn registration_lists_every_bad_field_and_stores_nothing() {
    let app = spawn_app().await;
    let res = app.register(json!({ "phone": "12345", "email": "not-an-email", "password": "short", "display_name": "  ", "locale": "fr" })).await;
    let mut errors = field_errors(res).await;
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("display_name".into(), "required".into()),
            ("email".into(), "invalid_email".into()),
            ("locale".into(), "invalid_locale".into()),
            ("password".into(), "password_too_short".into()),
            ("phone".into(), "invalid_phone".into()),
        ]
    );
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn registration_needs_a_phone_or_an_email() {
    let app = spawn_app().await;
    let res = app
        .register(json!({ "password": "password-1", "display_name": "Nobody" }))
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("phone".into(), "phone_or_email_required".into())]
    );
    let res = app.register(json!({ "phone": "", "email": " ", "password": "password-1", "display_name": "Nobody" })).await;
    assert_eq!(
        field_errors(res).await,
        vec![("phone".into(), "phone_or_email_required".into())]
    );
}

#[tokio::test]
async fn foreign_and_garbage_phone_numbers_are_refused() {
    let app = spawn_app().await;
    for (phone, code) in [
        ("+1 415 555 0100", "phone_not_thai"),
        ("hello", "invalid_phone"),
        ("0812", "invalid_phone"),
        ("08123456789", "invalid_phone"),
    ] {
        let res = app
            .register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
            .await;
        assert_eq!(
            field_errors(res).await,
            vec![("phone".into(), code.into())],
            "{phone}"
        );
    }
}

#[tokio::test]
async fn password_length_counts_thai_characters_not_bytes() {
    let app = spawn_app().await;
    // 8 characters (24 bytes in UTF-8): valid.
    let ok = app
        .register(json!({ "phone": unique_phone(), "password": "กขคงจฉชซ", "display_name": "X" }))
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    // 129 characters: too long, even though "ก" is 3 bytes.
    let long = app
        .register(
            json!({ "phone": unique_phone(), "password": "ก".repeat(129), "display_name": "X" }),
        )
        .await;
    assert_eq!(
        field_errors(long).await,
        vec![("password".into(), "password_too_long".into())]
    );
}

#[tokio::test]
async fn unknown_login_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let phone = unique_phone();
    app.register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
        .await;

    let wrong = app.login(&phone, "password-2").await;
    let unknown = app.login("0899999999", "password-2").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    let wrong_body = strip(wrong.json().await.unwrap());
    let unknown_body = strip(unknown.json().await.unwrap());
    assert_eq!(wrong_body, unknown_body);
    assert_eq!(wrong_body["code"], "invalid_credentials");
}

#[tokio::test]
async fn too_many_failures_lock_the_login_with_retry_after() {
    let app = spawn_app().await;
    let phone = unique_phone();
    app.register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
        .await;

    for _ in 0..5 {
        assert_eq!(
            app.login(&phone, "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked now, even for the right password, and whatever form the number is typed in.
    let locked = app.login(&phone, "password-1").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = crate::helpers::retry_after(&locked);
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(problem_code(locked).await, "too_many_login_attempts");
    let e164 = format!("+66{}", &phone[1..]);
    assert_eq!(
        app.login(&e164, "password-1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Another account is unaffected.
    let other = unique_phone();
    app.register(json!({ "phone": other, "password": "password-1", "display_name": "Y" }))
        .await;
    assert_eq!(
        app.login(&other, "password-1").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_logins_are_throttled_like_real_ones() {
    let app = spawn_app_with(&[("OCOD_LOGIN_MAX_FAILURES", "3")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.login("nobody@example.com", "x-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login("nobody@example.com", "x-password").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_successful_login_clears_earlier_failures() {
    let app = spawn_app_with(&[("OCOD_LOGIN_MAX_FAILURES", "3")]).await;
    let phone = unique_phone();
    app.register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
        .await;
    for _ in 0..2 {
        app.login(&phone, "wrong-password").await;
    }
    assert_eq!(
        app.login(&phone, "password-1").await.status(),
        StatusCode::OK
    );
    for _ in 0..3 {
        assert_eq!(
            app.login(&phone, "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login(&phone, "password-1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_cannot_exceed_the_limit() {
    let app = spawn_app().await;
    let phone = unique_phone();
    app.register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
        .await;
    let attempts = (0..30).map(|i| {
        app.login(
            &phone,
            if i == 29 {
                "password-1"
            } else {
                "wrong-password"
            },
        )
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let verified = statuses
        .iter()
        .filter(|s| **s != StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        verified <= 5,
        "{verified} of 30 parallel attempts were checked: {statuses:?}"
    );
    assert!(statuses.iter().all(|s| [
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::OK
    ]
    .contains(s)));
}

#[tokio::test]
async fn the_lockout_holds_across_server_processes_sharing_a_database() {
    let first = spawn_app_with(&[("OCOD_LOGIN_MAX_FAILURES", "3")]).await;
    let second = spawn_on(Arc::clone(&first.db), &[("OCOD_LOGIN_MAX_FAILURES", "3")]).await;
    let phone = unique_phone();
    first
        .register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
        .await;
    for app in [&first, &second, &first] {
        assert_eq!(
            app.login(&phone, "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        second.login(&phone, "password-1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn an_enormous_password_is_refused_without_hashing_it() {
    let app = spawn_app().await;
    let res = app.login("0812345678", &"x".repeat(60_000)).await;
    assert_eq!(problem_code(res).await, "invalid_credentials");
}

/// A login holding a NUL byte (PostgreSQL refuses one in any text) is an unknown login.
#[tokio::test]
async fn a_login_with_control_characters_is_refused_not_a_server_error() {
    let app = crate::helpers::spawn_app().await;
    let res = app.login("\u{0}$", "some-password-1").await;
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
}
