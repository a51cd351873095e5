//! The FCM HTTP v1 client against the fake, which speaks Google's protocol and errors.

use std::collections::BTreeMap;
use std::time::Duration;

use ocod::push::fake::{service_account, Control, Fault};
use ocod::push::fcm::{FcmClient, Outcome, Push};
use serde_json::{json, Value};

use crate::helpers::running_fake_fcm;

fn push(token: &str) -> Push {
    Push {
        token: token.into(),
        title: "เตือน: รู้ทันภัยออนไลน์".into(),
        body: "15 ธ.ค. 09:00 น.".into(),
        data: BTreeMap::from([
            ("kind".into(), "reminder".into()),
            ("session_id".into(), "s1".into()),
        ]),
        collapse_key: "reminder-e1-3600s".into(),
        expires_at: Some(ocod::db::now() + chrono::Duration::hours(1)),
    }
}

#[tokio::test]
async fn pushes_reach_the_fake_with_one_cached_access_token() {
    let fake = running_fake_fcm();
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 10).unwrap();
    for _ in 0..3 {
        assert_eq!(client.send(&push("device-token-1")).await, Outcome::Sent);
    }
    assert_eq!(fake.state.token_requests(), 1, "the access token is cached");
    let received = fake.state.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[0].title, "เตือน: รู้ทันภัยออนไลน์");
    assert_eq!(received[0].data["kind"], "reminder");
    assert_eq!(
        received[0].collapse_key.as_deref(),
        Some("reminder-e1-3600s")
    );
    assert_eq!(
        received[0].apns_collapse_id.as_deref(),
        Some("reminder-e1-3600s")
    );
    assert!(received[0].ttl.as_deref().is_some_and(|t| t.ends_with('s')));
}

#[tokio::test]
async fn each_google_error_is_classified() {
    let fake = running_fake_fcm();
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 10).unwrap();
    fake.state.control(Control {
        dead_tokens: vec!["dead-token".into()],
        ..Control::default()
    });
    assert!(
        matches!(client.send(&push("dead-token")).await, Outcome::InvalidToken(r) if r.contains("UNREGISTERED"))
    );
    assert!(
        matches!(client.send(&push("an-invalid-token")).await, Outcome::InvalidToken(r) if r.contains("INVALID_ARGUMENT"))
    );

    fake.state.control(Control {
        fail_next: vec![
            Fault::new(503, Some(2)),
            Fault::new(429, Some(30)),
            Fault::new(500, None),
        ],
        ..Control::default()
    });
    assert_eq!(
        client.send(&push("t")).await,
        Outcome::Retry {
            reason: "503 UNAVAILABLE: The service is currently unavailable.".into(),
            after: Some(Duration::from_secs(2))
        }
    );
    assert!(
        matches!(client.send(&push("t")).await, Outcome::Retry { after: Some(a), .. } if a == Duration::from_secs(30))
    );
    assert!(matches!(
        client.send(&push("t")).await,
        Outcome::Retry { after: None, .. }
    ));

    let mut too_big = push("t");
    too_big.body = "ก".repeat(2000);
    assert!(matches!(client.send(&too_big).await, Outcome::Failed(r) if r.contains("too big")));
    assert_eq!(client.send(&push("t")).await, Outcome::Sent);
}

#[tokio::test]
async fn a_refused_access_token_is_renewed_once() {
    let fake = running_fake_fcm();
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 10).unwrap();
    assert_eq!(client.send(&push("t")).await, Outcome::Sent);
    fake.state.control(Control {
        revoke_access_tokens: true,
        ..Control::default()
    });
    assert_eq!(client.send(&push("t")).await, Outcome::Sent);
    assert_eq!(fake.state.token_requests(), 2);
}

#[tokio::test]
async fn the_fake_checks_assertions_and_message_shape_like_google() {
    let fake = running_fake_fcm();
    let http = reqwest::Client::new();
    // An assertion not signed with the service account's RSA key.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "iss": "x", "scope": "https://www.googleapis.com/auth/firebase.messaging", "aud": format!("{}/token", fake.base_url), "iat": 0, "exp": 9_999_999_999i64 }),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-key").unwrap(),
    )
    .unwrap();
    let res = http
        .post(format!("{}/token", fake.base_url))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", forged.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let send_url = format!("{}/v1/projects/ocod-fake/messages:send", fake.base_url);
    let res = http
        .post(&send_url)
        .bearer_auth("made-up")
        .json(&json!({ "message": { "token": "t" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["status"],
        "UNAUTHENTICATED"
    );

    // With a real access token: two targets, and a number in data, are refused.
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 1).unwrap();
    client.send(&push("warm-up")).await;
    fake.state.control(Control::default());
    let token = {
        // The fake accepts only tokens it issued; get one the way the client does.
        let sa = service_account(&fake.base_url);
        let now = chrono::Utc::now().timestamp();
        let assertion = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &json!({ "iss": sa.client_email, "scope": "https://www.googleapis.com/auth/firebase.messaging", "aud": sa.token_uri, "iat": now, "exp": now + 3600 }),
            &jsonwebtoken::EncodingKey::from_rsa_pem(sa.private_key.as_bytes()).unwrap(),
        )
        .unwrap();
        let res: Value = http
            .post(&sa.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["access_token"].as_str().unwrap().to_string()
    };
    let res = http
        .post(&send_url)
        .bearer_auth(&token)
        .json(&json!({ "message": { "token": "t", "topic": "news" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = http
        .post(&send_url)
        .bearer_auth(&token)
        .json(&json!({ "message": { "token": "t", "data": { "count": 12 } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["details"][0]["fieldViolations"][0]["field"],
        "message.data[0].value"
    );
}

#[tokio::test]
async fn a_plain_http_endpoint_that_speaks_only_http1_gets_the_pushes() {
    let (fake, server) = ocod::push::fake::FakeFcm::start_http1_only("127.0.0.1:0").unwrap();
    tokio::spawn(server);
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 10).unwrap();
    for i in 0..5 {
        assert_eq!(
            client.send(&push(&format!("device-{i}"))).await,
            Outcome::Sent,
            "push {i}"
        );
    }
    assert_eq!(fake.state.received().len(), 5, "each push arrived once");
    // The HTTP/2 attempt that found out failed before any message was accepted.
    assert_eq!(fake.state.send_requests(), 5);
}

#[tokio::test]
async fn an_h2c_endpoint_keeps_http2() {
    // The usual fake speaks both; the client's first choice, HTTP/2, is kept.
    let fake = running_fake_fcm();
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 10).unwrap();
    assert_eq!(client.send(&push("device-1")).await, Outcome::Sent);
    let received = fake.state.received();
    assert_eq!(received[0].http_version.as_deref(), Some("HTTP/2.0"));
}
