//! Access and refresh tokens: rotation, reuse detection, logout, role changes, and every
//! kind of bad token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem_code, spawn_app, spawn_app_with, TestApp, TEST_SECRET};

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/refresh",
        &json!({ "refresh_token": token }),
        None,
    )
    .await
}

#[tokio::test]
async fn refresh_rotates_the_token_pair() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let res = refresh(&app, &session.refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let new_refresh = body["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, session.refresh);
    assert_eq!(
        app.get("/api/v1/me", body["access_token"].as_str())
            .await
            .status(),
        StatusCode::OK
    );
    // The new one rotates too.
    assert_eq!(refresh(&app, new_refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
    let app = spawn_app_with(&[("OCOD_REFRESH_REUSE_GRACE", "0s")]).await;
    let session = app.resident().await;
    let rotated: Value = refresh(&app, &session.refresh).await.json().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // The thief (or a replay) presents the spent token.
    let reuse = refresh(&app, &session.refresh).await;
    assert_eq!(problem_code(reuse).await, "refresh_token_reused");

    // Every token of that login session is now dead: the successor and the access tokens.
    let successor = refresh(&app, rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!(problem_code(successor).await, "invalid_refresh_token");
    let me = app
        .get("/api/v1/me", rotated["access_token"].as_str())
        .await;
    assert_eq!(problem_code(me).await, "session_revoked");
    let me = app.get("/api/v1/me", Some(&session.access)).await;
    assert_eq!(problem_code(me).await, "session_revoked");

    // Logging in again works.
    let other = app.resident().await;
    assert_eq!(
        app.get("/api/v1/me", Some(&other.access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn two_concurrent_refreshes_from_one_phone_both_succeed_within_the_grace() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let (a, b) = tokio::join!(
        refresh(&app, &session.refresh),
        refresh(&app, &session.refresh)
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_ne!(a["refresh_token"], b["refresh_token"]);
    for body in [a, b] {
        assert_eq!(
            app.get("/api/v1/me", body["access_token"].as_str())
                .await
                .status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn unknown_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    for token in ["", "nonsense", &"x".repeat(500)] {
        assert_eq!(
            problem_code(refresh(&app, token).await).await,
            "invalid_refresh_token",
            "{token}"
        );
    }
}

#[tokio::test]
async fn logout_ends_the_session_and_only_that_session() {
    let app = spawn_app().await;
    let phone = crate::helpers::unique_phone();
    let phone_session = TestApp::signed_in_from(
        app.register(json!({ "phone": phone, "password": "password-1", "display_name": "X" }))
            .await,
    )
    .await;
    let tablet_session = TestApp::signed_in_from(app.login(&phone, "password-1").await).await;

    let res = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({ "refresh_token": phone_session.refresh }),
            Some(&phone_session.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        problem_code(app.get("/api/v1/me", Some(&phone_session.access)).await).await,
        "session_revoked"
    );
    assert_eq!(
        problem_code(refresh(&app, &phone_session.refresh).await).await,
        "invalid_refresh_token"
    );

    assert_eq!(
        app.get("/api/v1/me", Some(&tablet_session.access))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        refresh(&app, &tablet_session.refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_cannot_end_another_users_session() {
    let app = spawn_app().await;
    let alice = app.resident().await;
    let bob = app.resident().await;
    let res = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({ "refresh_token": bob.refresh }),
            Some(&alice.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", Some(&bob.access)).await.status(),
        StatusCode::OK
    );
    assert_eq!(refresh(&app, &bob.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_role_change_takes_effect_at_once_and_refresh_carries_the_new_role() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    let resident = app.resident().await;
    assert_eq!(
        app.get("/api/v1/admin/users", Some(&resident.access))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let res = app
        .patch_json(
            &format!("/api/v1/admin/users/{}", resident.user_id),
            &json!({ "role": "admin" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The old token names the old role: the app is told to refresh.
    assert_eq!(
        problem_code(app.get("/api/v1/me", Some(&resident.access)).await).await,
        "stale_token"
    );
    let body: Value = refresh(&app, &resident.refresh).await.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(
        app.get("/api/v1/admin/users", body["access_token"].as_str())
            .await
            .status(),
        StatusCode::OK
    );

    // And back down: admin rights end with the demotion.
    app.patch_json(
        &format!("/api/v1/admin/users/{}", resident.user_id),
        &json!({ "role": "resident" }),
        Some(&admin.access),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/admin/users", body["access_token"].as_str())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

fn claims(signed_in: &crate::helpers::SignedIn, overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let login_id = login_id_of(&signed_in.access);
    let mut claims = json!({
        "iss": "ocod", "aud": "ocod-api", "sub": signed_in.user_id, "sid": login_id,
        "role": "resident", "iat": now, "exp": now + 600,
    });
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn login_id_of(jwt: &str) -> String {
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_string()
}

fn sign(claims: &Value, secret: &str, alg: Algorithm) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_correctly_signed_token_is_accepted_as_a_control() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let token = sign(&claims(&session, json!({})), TEST_SECRET, Algorithm::HS256);
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_tokens_get_401_with_a_reason() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let now = chrono::Utc::now().timestamp();
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims(&session, json!({})).to_string());
        format!("{header}.{body}.")
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "forged",
            sign(
                &claims(&session, json!({})),
                "another-secret-another-secret-1234567",
                Algorithm::HS256,
            ),
            "invalid_token",
        ),
        (
            "expired",
            sign(
                &claims(&session, json!({ "exp": now - 3600, "iat": now - 4600 })),
                TEST_SECRET,
                Algorithm::HS256,
            ),
            "token_expired",
        ),
        (
            "wrong audience",
            sign(
                &claims(&session, json!({ "aud": "another-api" })),
                TEST_SECRET,
                Algorithm::HS256,
            ),
            "invalid_token",
        ),
        (
            "wrong issuer",
            sign(
                &claims(&session, json!({ "iss": "evil" })),
                TEST_SECRET,
                Algorithm::HS256,
            ),
            "invalid_token",
        ),
        ("alg none", unsigned, "invalid_token"),
        (
            "HS512",
            sign(&claims(&session, json!({})), TEST_SECRET, Algorithm::HS512),
            "invalid_token",
        ),
        (
            "self-promoted role",
            sign(
                &claims(&session, json!({ "role": "admin" })),
                TEST_SECRET,
                Algorithm::HS256,
            ),
            "stale_token",
        ),
        (
            "unknown session",
            sign(
                &claims(&session, json!({ "sid": "nope" })),
                TEST_SECRET,
                Algorithm::HS256,
            ),
            "session_revoked",
        ),
        ("garbage", "not.a.jwt".into(), "invalid_token"),
    ];
    for (name, token, code) in cases {
        let res = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(res.headers().contains_key("www-authenticate"), "{name}");
        assert_eq!(problem_code(res).await, code, "{name}");
    }
    let missing = app.get("/api/v1/me", None).await;
    assert_eq!(problem_code(missing).await, "missing_token");
    let basic = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_code(basic).await, "invalid_token");
}
