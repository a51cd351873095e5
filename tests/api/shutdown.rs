//! Graceful shutdown of `ocod serve` on SIGTERM: requests in flight finish, new ones are
//! refused, and the push worker finishes its round, leaving nothing leased.

use std::process::{Command, Stdio};

use futures_util::StreamExt;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{spawn_push_app, TEST_SECRET};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn sigterm_lets_requests_and_pushes_in_flight_finish() {
    let rig = spawn_push_app(&[]).await;
    let admin = rig.app.user_with_role("admin").await;
    for i in 0..5 {
        let person = rig.app.resident().await;
        rig.device(&person, &format!("shutdown-device-{i}")).await;
    }
    rig.fake.state.control(ocod::push::fake::Control {
        latency_ms: Some(2_000),
        ..Default::default()
    });
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_ocod"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", rig.app.db.url())
        .env("OCOD_BIND", format!("127.0.0.1:{port}"))
        .env("OCOD_JWT_SECRET", TEST_SECRET)
        .env("GOOGLE_APPLICATION_CREDENTIALS", &rig.key_path)
        .env("OCOD_FCM_ENDPOINT", &rig.fake.base_url)
        .env("OCOD_QUIET_HOURS", "")
        .env("OCOD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ocod serve");
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

    // Pushes in flight: the fake holds each send for two seconds.
    let body = json!({ "audience": { "kind": "all" }, "title": { "th": "ทดสอบ", "en": "Test" }, "body": { "th": "ข้อความ", "en": "Message" } });
    rig.app
        .post_json("/api/v1/admin/broadcasts", &body, Some(&admin.access))
        .await;
    let started = Instant::now();
    while rig.fake.state.send_requests() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the worker never sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A request in flight: its body arrives slowly, over a second and a half.
    let chunks: Vec<&'static [u8]> = vec![
        b"{\"login\": \"0899999999\", ",
        b"\"password\": ",
        b"\"wrong-password\"}",
    ];
    let slow_body = futures_util::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok::<_, std::io::Error>(chunk)
    });
    let slow = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/login");
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(slow_body))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    tokio::time::sleep(Duration::from_millis(300)).await;

    // New connections are refused…
    assert!(
        reqwest::Client::new()
            .get(format!("{base}/health/live"))
            .send()
            .await
            .is_err(),
        "a new request was accepted after SIGTERM"
    );
    // …while the one in flight is answered in full.
    let answer = slow
        .await
        .unwrap()
        .expect("the request in flight was cut off");
    assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);

    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");

    // The worker finished its round: the pushes in flight were recorded, none left leased.
    let pool = rig.app.pool.clone();
    let by_status: Vec<(String, i64)> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use ocod::schema::push_deliveries::dsl as d;
        d::push_deliveries
            .group_by(d::status)
            .select((d::status, diesel::dsl::count_star()))
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(by_status, vec![("sent".to_string(), 5)]);
}
