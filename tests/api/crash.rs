//! Crash safety with real worker processes: a broadcast to hundreds of devices while the
//! fake FCM injects faults, the worker killed with SIGKILL half-way and restarted. Every
//! device gets it; duplicates only for what was in flight at the kill; each device is
//! counted once. Two workers side by side never send the same push twice.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_push_app, PushRig};

const CONCURRENCY: usize = 25;

fn worker_process(rig: &PushRig) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ocod"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", rig.app.db.url())
        .env("GOOGLE_APPLICATION_CREDENTIALS", &rig.key_path)
        .env("OCOD_FCM_ENDPOINT", &rig.fake.base_url)
        .env("OCOD_PUSH_CONCURRENCY", CONCURRENCY.to_string())
        .env("OCOD_PUSH_LEASE", "3s")
        .env("OCOD_WORKER_POLL", "1s")
        .env("OCOD_QUIET_HOURS", "")
        .env("OCOD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ocod worker")
}

/// `n` residents with one device each (tokens `device-0` …), and an admin.
async fn audience(rig: &PushRig, n: usize) -> crate::helpers::SignedIn {
    let people = rig.app.many_residents(n).await;
    let pool = rig.app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        for (i, p) in people.iter().enumerate() {
            ocod::models::devices::register(
                &mut conn,
                &p.user_id,
                &format!("device-{i}"),
                ocod::domain::Platform::Android,
                None,
            )
            .unwrap();
        }
    })
    .await
    .unwrap();
    rig.app.user_with_role("admin").await
}

async fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Deliveries the database holds as sent.
async fn sent_in_database(rig: &PushRig) -> usize {
    let pool = rig.app.pool.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use ocod::schema::push_deliveries;
        push_deliveries::table
            .filter(push_deliveries::status.eq("sent"))
            .count()
            .get_result::<i64>(&mut pool.get().unwrap())
            .unwrap() as usize
    })
    .await
    .unwrap()
}

fn per_device(rig: &PushRig) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in rig.fake.state.received() {
        *counts.entry(m.token).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn a_broadcast_survives_its_worker_being_killed_mid_way() {
    let rig = spawn_push_app(&[]).await;
    let admin = audience(&rig, 300).await;
    rig.fake.state.control(ocod::push::fake::Control {
        latency_ms: Some(15),
        fail_next: (0..30)
            .map(|i| ocod::push::fake::Fault::new(if i % 2 == 0 { 503 } else { 429 }, Some(1)))
            .collect(),
        ..Default::default()
    });
    let body = json!({ "audience": { "kind": "all" }, "title": { "th": "ทดสอบ", "en": "Test" }, "body": { "th": "ข้อความ", "en": "Message" } });
    let created: Value = rig
        .app
        .post_json("/api/v1/admin/broadcasts", &body, Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();

    let mut first = worker_process(&rig);
    wait_for("the first pushes", Duration::from_secs(60), || {
        rig.fake.state.received_count() >= 60
    })
    .await;
    first.kill().expect("SIGKILL the worker");
    first.wait().unwrap();
    // Let the fake finish answering what reached it before the kill.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_kill = rig.fake.state.received_count();
    assert!(
        at_kill < 300,
        "the worker finished before it could be killed ({at_kill})"
    );
    // What reached FCM but was not yet recorded as sent: only these may go twice.
    let recorded = sent_in_database(&rig).await;
    let unrecorded = at_kill - recorded;
    assert!(
        recorded > 0,
        "outcomes are recorded while the round goes on, not only at its end"
    );

    let mut second = worker_process(&rig);
    wait_for("every device", Duration::from_secs(90), || {
        per_device(&rig).len() == 300
    })
    .await;
    // Let it record its last round, then stop it.
    let mut stats = Value::Null;
    for _ in 0..100 {
        stats = rig
            .app
            .get(
                &format!("/api/v1/admin/broadcasts/{id}"),
                Some(&admin.access),
            )
            .await
            .json()
            .await
            .unwrap();
        if stats["pending"] == 0 && stats["sent"] == 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().ok();
    second.wait().ok();

    let counts = per_device(&rig);
    assert_eq!(counts.len(), 300, "every device received the broadcast");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!(
        "killed after {at_kill} of 300 pushes, {unrecorded} of them not yet recorded; \
         {duplicates} sent twice after the restart"
    );
    // A push recorded as sent is never sent again; one in flight at the kill may be.
    assert!(
        duplicates <= unrecorded,
        "{duplicates} duplicates, but only {unrecorded} pushes were unrecorded at the kill"
    );
    // Everyone (the admin too, who has no device) was targeted; each device counted once.
    assert_eq!(
        (
            stats["targeted"].as_i64(),
            stats["devices"].as_i64(),
            stats["sent"].as_i64(),
            stats["pending"].as_i64()
        ),
        (Some(301), Some(300), Some(300), Some(0)),
        "{stats}"
    );
    assert_eq!(stats["failed"], 0);
}

#[tokio::test]
async fn two_worker_processes_share_the_queue_without_sending_twice() {
    let rig = spawn_push_app(&[]).await;
    let admin = audience(&rig, 300).await;
    rig.fake.state.control(ocod::push::fake::Control {
        latency_ms: Some(10),
        ..Default::default()
    });
    let body = json!({ "audience": { "kind": "all" }, "title": { "th": "ทดสอบ", "en": "Test" }, "body": { "th": "ข้อความ", "en": "Message" } });
    rig.app
        .post_json("/api/v1/admin/broadcasts", &body, Some(&admin.access))
        .await;
    let mut a = worker_process(&rig);
    let mut b = worker_process(&rig);
    wait_for("every device", Duration::from_secs(90), || {
        per_device(&rig).len() == 300
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for w in [&mut a, &mut b] {
        w.kill().ok();
        w.wait().ok();
    }
    let counts = per_device(&rig);
    assert_eq!(counts.len(), 300);
    assert!(
        counts.values().all(|n| *n == 1),
        "a device got the broadcast twice"
    );
}
