//! Which channel reaches whom, over real HTTP with stand-ins for FCM, LINE and Twilio and
//! the worker stepped by the test: a push to each live device; LINE for a person with no
//! live device; SMS, for a cancellation, a move or a freed seat, for a person with
//! neither; the inbox always. Dead devices and blocked LINE accounts fall back to the next
//! channel; LINE's retry key makes a retried push arrive once.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_push_app, PushRig, SignedIn};
use crate::line::{sign, text_event, SECRET, TOKEN};

const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio-auth-token-for-tests";

pub(crate) struct Rig {
    pub push: PushRig,
    pub line: ocod::line::fake::FakeLine,
    pub twilio: ocod::sms::fake::FakeTwilio,
}

pub(crate) async fn spawn_rig() -> Rig {
    let (line, server) = ocod::line::fake::FakeLine::start("127.0.0.1:0", TOKEN).expect("LINE");
    tokio::spawn(server);
    let (twilio, server) =
        ocod::sms::fake::FakeTwilio::start("127.0.0.1:0", TWILIO_SID, TWILIO_TOKEN)
            .expect("Twilio");
    tokio::spawn(server);
    let push = spawn_push_app(&[
        ("OCOD_LINE_CHANNEL_SECRET", SECRET),
        ("OCOD_LINE_CHANNEL_TOKEN", TOKEN),
        ("OCOD_LINE_ENDPOINT", &line.base_url),
        ("OCOD_SMS_PROVIDER", "twilio"),
        ("TWILIO_ACCOUNT_SID", TWILIO_SID),
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        ("OCOD_SMS_FROM", "OCOD"),
        ("OCOD_TWILIO_ENDPOINT", &twilio.base_url),
        ("OCOD_QUIET_HOURS", ""),
    ])
    .await;
    Rig { push, line, twilio }
}

impl Rig {
    /// Links `who` to the LINE user `line_user` as a resident does: a code from the app,
    /// sent in the chat.
    pub async fn link_line(&self, who: &SignedIn, line_user: &str) {
        let app = &self.push.app;
        let link: Value = app
            .post("/api/v1/me/line/link", Some(&who.access))
            .await
            .json()
            .await
            .unwrap();
        let event = text_event(line_user, link["code"].as_str().unwrap(), "r-link");
        let body = json!({ "destination": "Uocod", "events": [event] }).to_string();
        let res = app
            .client
            .post(app.url("/webhooks/line"))
            .header("content-type", "application/json")
            .header("x-line-signature", sign(&body, SECRET))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let me: Value = app
            .get("/api/v1/me", Some(&who.access))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["line_linked"], true);
    }

    /// Runs worker rounds until one finds nothing to do, making retries due at once
    /// instead of waiting out their backoff.
    pub async fn settle(&self) {
        for _ in 0..50 {
            let step = self.push.step().await;
            if step.is_idle() {
                return;
            }
            self.retries_due_now().await;
        }
        panic!("the worker never went idle");
    }

    async fn retries_due_now(&self) {
        let pool = self.push.app.pool.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::prelude::*;
            use ocod::schema::push_deliveries;
            diesel::update(push_deliveries::table.filter(push_deliveries::status.eq("pending")))
                .set(push_deliveries::due_at.eq(ocod::db::now()))
                .execute(&mut pool.get().unwrap())
                .unwrap();
        })
        .await
        .unwrap();
    }

    /// Deliveries by (channel, status).
    pub async fn deliveries(&self) -> BTreeMap<(String, String), i64> {
        let pool = self.push.app.pool.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::prelude::*;
            use ocod::schema::push_deliveries;
            push_deliveries::table
                .group_by((push_deliveries::channel, push_deliveries::status))
                .select((
                    push_deliveries::channel,
                    push_deliveries::status,
                    diesel::dsl::count_star(),
                ))
                .load::<(String, String, i64)>(&mut pool.get().unwrap())
                .unwrap()
                .into_iter()
                .map(|(c, s, n)| ((c, s), n))
                .collect()
        })
        .await
        .unwrap()
    }

    async fn email_only_resident(&self) -> SignedIn {
        let email = format!("{}@mail.test", uuid::Uuid::now_v7().simple());
        let res = self
            .push
            .app
            .register(
                json!({ "email": email, "password": "password-123", "display_name": "ไม่มีโทรศัพท์" }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        SignedIn::from_body(&res.json().await.unwrap())
    }

    async fn kinds_in_inbox(&self, who: &SignedIn) -> Vec<(String, String)> {
        let inbox: Value = self
            .push
            .app
            .get("/api/v1/me/notifications", Some(&who.access))
            .await
            .json()
            .await
            .unwrap();
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["kind"].as_str().unwrap_or_default().to_string(),
                    n["data"]["session_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    }
}

fn key(channel: &str, status: &str) -> (String, String) {
    (channel.to_string(), status.to_string())
}

#[tokio::test]
async fn each_person_is_reached_by_their_channel_and_texts_only_for_what_costs_a_trip() {
    let rig = spawn_rig().await;
    let app = &rig.push.app;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let pushed = app.resident().await;
    rig.push.device(&pushed, "pushed-phone").await;
    // A device as well as LINE: the device wins, LINE stays quiet.
    let both = app.resident().await;
    rig.push.device(&both, "both-phone").await;
    rig.link_line(&both, "U-both").await;
    let lined = app.resident().await;
    rig.link_line(&lined, "U-lined").await;
    let texted = app.resident().await;
    let unreachable = rig.email_only_resident().await;
    for who in [&pushed, &both, &lined, &texted, &unreachable] {
        assert_eq!(
            app.enroll(&session, &who.access).await.status(),
            StatusCode::CREATED
        );
    }
    rig.settle().await;

    // A broadcast: pushes and LINE, never a text (it costs nobody a trip).
    let res = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &json!({ "audience": { "kind": "session", "value": session },
                     "title": { "th": "ข่าวศูนย์", "en": "Center news" },
                     "body": { "th": "มีคอร์สใหม่", "en": "A new course" } }),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let broadcast: Value = res.json().await.unwrap();
    rig.settle().await;
    let tokens: Vec<String> = rig
        .push
        .fake
        .state
        .received()
        .into_iter()
        .map(|m| m.token)
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(tokens.contains(&"pushed-phone".to_string()) && tokens.contains(&"both-phone".into()));
    let pushes = rig.line.state.pushes();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].to.as_deref(), Some("U-lined"));
    assert_eq!(pushes[0].text, "ข่าวศูนย์\nมีคอร์สใหม่");
    assert!(rig.twilio.state.received().is_empty());
    let figures: Value = app
        .get(
            &format!(
                "/api/v1/admin/broadcasts/{}",
                broadcast["id"].as_str().unwrap()
            ),
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        figures["by_channel"],
        json!({ "push": 2, "line": 1, "sms": 0 })
    );
    assert_eq!(figures["sent"], 3);

    // The session is cancelled: the one with neither device nor LINE gets a text too.
    let res = app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    rig.settle().await;
    assert_eq!(rig.push.fake.state.received_count(), 4);
    let pushes = rig.line.state.pushes();
    assert_eq!(pushes.len(), 2);
    assert!(
        pushes[1].text.starts_with("ยกเลิกการอบรม"),
        "{:?}",
        pushes[1]
    );
    assert_ne!(pushes[0].retry_key, pushes[1].retry_key);
    let texts = rig.twilio.state.received();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let me: Value = app
        .get("/api/v1/me", Some(&texted.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(texts[0].to, me["phone"].as_str().unwrap());
    assert_eq!(texts[0].from, "OCOD");
    assert!(texts[0].body.starts_with("ยกเลิกการอบรม"), "{:?}", texts[0]);
    assert!(texts[0].body.contains("ถูกยกเลิก"));

    // Everyone has both in the inbox, the unreachable one too (told = in the inbox with
    // the session).
    for who in [&pushed, &both, &lined, &texted, &unreachable] {
        let kinds = rig.kinds_in_inbox(who).await;
        assert!(
            kinds.contains(&("session_cancelled".into(), session.clone())),
            "{kinds:?}"
        );
        assert!(kinds.iter().any(|(k, _)| k == "broadcast"), "{kinds:?}");
    }
    let deliveries = rig.deliveries().await;
    assert_eq!(
        deliveries,
        BTreeMap::from([
            (key("line", "sent"), 2),
            (key("push", "sent"), 4),
            (key("sms", "sent"), 1),
        ])
    );
}

#[tokio::test]
async fn a_dead_device_falls_back_to_line_and_a_blocked_line_to_a_text() {
    let rig = spawn_rig().await;
    let app = &rig.push.app;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = app.resident().await;
    rig.push.device(&resident, "uninstalled-phone").await;
    rig.link_line(&resident, "U-blocker").await;
    rig.push.fake.state.control(ocod::push::fake::Control {
        dead_tokens: vec!["uninstalled-phone".into()],
        ..Default::default()
    });
    rig.line.state.block("U-blocker");
    app.enroll(&session, &resident.access).await;
    let res = app
        .patch_json(
            &format!("/api/v1/sessions/{session}"),
            &json!({ "starts_at": crate::helpers::hours_from_now(72), "ends_at": crate::helpers::hours_from_now(74) }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    rig.settle().await;

    assert_eq!(rig.push.fake.state.received_count(), 0);
    assert!(rig.line.state.pushes().is_empty());
    let texts = rig.twilio.state.received();
    assert_eq!(
        texts.len(),
        1,
        "the move reached the phone by SMS: {texts:?}"
    );
    assert!(texts[0].body.starts_with("เปลี่ยนเวลาอบรม"), "{:?}", texts[0]);
    assert_eq!(
        rig.deliveries().await,
        BTreeMap::from([
            (key("line", "invalid_token"), 1),
            (key("push", "invalid_token"), 1),
            (key("sms", "sent"), 1),
        ])
    );
    // The dead device is forgotten and the blocked LINE account unlinked.
    let me: Value = app
        .get("/api/v1/me", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["line_linked"], false);
    assert_eq!(app.count("devices").await, 0);
}

#[tokio::test]
async fn a_line_push_retried_after_a_lost_answer_arrives_once() {
    let rig = spawn_rig().await;
    let app = &rig.push.app;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = app.resident().await;
    rig.link_line(&resident, "U-patchy").await;
    app.enroll(&session, &resident.access).await;
    // Refused twice (retried), then accepted with the answer lost: the next try carries
    // the same key, LINE answers 409, and that counts as delivered.
    rig.line.state.fail_next(&[503, 429]);
    rig.line.state.lose_answers(1);
    app.post(
        &format!("/api/v1/sessions/{session}/cancel"),
        Some(&net.staff.access),
    )
    .await;
    rig.settle().await;
    let pushes = rig.line.state.pushes();
    assert_eq!(pushes.len(), 1, "delivered once: {pushes:?}");
    assert!(uuid::Uuid::parse_str(pushes[0].retry_key.as_deref().unwrap()).is_ok());
    assert_eq!(
        rig.deliveries().await,
        BTreeMap::from([(key("line", "sent"), 1)])
    );
    // Nobody was texted: LINE reached them.
    assert!(rig.twilio.state.received().is_empty());
}

#[tokio::test]
async fn the_reach_report_counts_each_person_once_per_group_by_their_best_channel() {
    let rig = spawn_rig().await;
    let app = &rig.push.app;
    let net = app.network().await;
    let here = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let here_again = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let there = app
        .session(
            &net.other_staff.access,
            &net.other_center_id,
            &net.course_id,
            1,
        )
        .await;
    let pushed = app.resident().await;
    rig.push.device(&pushed, "report-phone").await;
    let lined = app.resident().await;
    rig.link_line(&lined, "U-report").await;
    let texted = app.resident().await;
    let unreachable = rig.email_only_resident().await;
    for who in [&pushed, &lined, &texted, &unreachable] {
        app.enroll(&here, &who.access).await;
    }
    // Two seats at one center count once; a seat elsewhere counts there.
    app.enroll(&here_again, &pushed.access).await;
    app.enroll(&there, &pushed.access).await;
    // Waiting, or cancelled: no seat to be told about.
    app.enroll(&there, &lined.access).await;
    let cancelled = app.resident().await;
    let seat: Value = app
        .enroll(&here, &cancelled.access)
        .await
        .json()
        .await
        .unwrap();
    app.delete(
        &format!("/api/v1/me/enrollments/{}", seat["id"].as_str().unwrap()),
        Some(&cancelled.access),
    )
    .await;

    let report = |group_by: &'static str| {
        let admin = net.admin.access.clone();
        async move {
            let res = app
                .get(
                    &format!("/api/v1/admin/reports/reach?group_by={group_by}"),
                    Some(&admin),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let by_center = report("center").await;
    assert_eq!(by_center["group_by"], "center");
    let rows: BTreeMap<String, (i64, i64, i64, i64)> = by_center["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["group"].as_str().unwrap().to_string(),
                (n("push"), n("line_only"), n("sms_only"), n("unreachable")),
            )
        })
        .collect();
    assert_eq!(
        rows,
        BTreeMap::from([
            (net.center_id.clone(), (1, 1, 1, 1)),
            (net.other_center_id.clone(), (1, 0, 0, 0)),
        ])
    );
    // By province, the pushed person still counts once per province.
    let by_province = report("province").await;
    let items = by_province["items"].as_array().unwrap();
    let total = |k: &str| items.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (
            total("push"),
            total("line_only"),
            total("sms_only"),
            total("unreachable")
        ),
        (items.len() as i64, 1, 1, 1),
        "{by_province}"
    );

    // A cancelled session drops out; a bad grouping is a clear 400.
    app.post(
        &format!("/api/v1/sessions/{there}/cancel"),
        Some(&net.other_staff.access),
    )
    .await;
    let by_center = report("center").await;
    assert_eq!(by_center["items"].as_array().unwrap().len(), 1);
    let res = app
        .get(
            "/api/v1/admin/reports/reach?group_by=course",
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        crate::helpers::field_errors(res).await,
        vec![("group_by".to_string(), "invalid_value".to_string())]
    );
}

fn worker_process(rig: &Rig) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_ocod"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", rig.push.app.db.url())
        .env("OCOD_LINE_CHANNEL_SECRET", SECRET)
        .env("OCOD_LINE_CHANNEL_TOKEN", TOKEN)
        .env("OCOD_LINE_ENDPOINT", &rig.line.base_url)
        .env("OCOD_SMS_PROVIDER", "twilio")
        .env("TWILIO_ACCOUNT_SID", TWILIO_SID)
        .env("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .env("OCOD_SMS_FROM", "OCOD")
        .env("OCOD_TWILIO_ENDPOINT", &rig.twilio.base_url)
        .env("OCOD_PUSH_CONCURRENCY", "5")
        .env("OCOD_PUSH_LEASE", "3s")
        .env("OCOD_WORKER_POLL", "1s")
        .env("OCOD_QUIET_HOURS", "")
        .env("OCOD_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start ocod worker")
}

#[tokio::test]
async fn line_messages_and_texts_survive_their_worker_being_killed_mid_way() {
    use diesel::prelude::*;
    let rig = spawn_rig().await;
    let app = &rig.push.app;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 200)
        .await;
    // 100 residents reached by LINE only, 100 by SMS only.
    let people = app.many_residents(200).await;
    let pool = app.pool.clone();
    let ids: Vec<String> = people.iter().map(|p| p.user_id.clone()).collect();
    tokio::task::spawn_blocking(move || {
        use ocod::schema::{line_links, users};
        let mut conn = pool.get().unwrap();
        for (i, id) in ids.iter().enumerate() {
            if i < 100 {
                diesel::insert_into(line_links::table)
                    .values((
                        line_links::user_id.eq(id),
                        line_links::line_user_id.eq(format!("U-kill-{i}")),
                        line_links::linked_at.eq(ocod::db::now()),
                    ))
                    .execute(&mut conn)
                    .unwrap();
            } else {
                diesel::update(users::table.find(id))
                    .set(users::phone.eq(format!("+6681{i:07}")))
                    .execute(&mut conn)
                    .unwrap();
            }
        }
    })
    .await
    .unwrap();
    for p in &people {
        assert_eq!(
            app.enroll(&session, &p.access).await.status(),
            StatusCode::CREATED
        );
    }
    rig.line.state.set_latency_ms(80);
    rig.twilio.state.set_latency_ms(80);
    let res = app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let arrived = || rig.line.state.pushes().len() + rig.twilio.state.received().len();
    let mut first = worker_process(&rig);
    let started = std::time::Instant::now();
    while arrived() < 40 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "nothing sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.kill().expect("SIGKILL the worker");
    first.wait().unwrap();
    let at_kill = arrived();
    assert!(at_kill < 200, "the worker finished before it was killed");

    let mut second = worker_process(&rig);
    let everyone = || {
        let lined: std::collections::HashSet<String> = rig
            .line
            .state
            .pushes()
            .into_iter()
            .filter_map(|m| m.to)
            .collect();
        let texted: std::collections::HashSet<String> = rig
            .twilio
            .state
            .received()
            .into_iter()
            .map(|m| m.to)
            .collect();
        lined.len() == 100 && texted.len() == 100
    };
    let started = std::time::Instant::now();
    while !everyone() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "not everyone was reached"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Let it record its last outcomes.
    let started = std::time::Instant::now();
    while rig.deliveries().await
        != BTreeMap::from([(key("line", "sent"), 100), (key("sms", "sent"), 100)])
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            rig.deliveries().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    second.kill().ok();
    second.wait().ok();

    // LINE: the retry key made every retried push after the kill a 409, never a second
    // message. SMS has no such key: only what was in flight at the kill may repeat.
    let pushes = rig.line.state.pushes();
    assert_eq!(pushes.len(), 100, "each LINE user got the notice once");
    let texts = rig.twilio.state.received();
    let repeated = texts.len() - 100;
    eprintln!("killed after {at_kill} of 200; {repeated} texts sent twice");
    assert!(
        repeated <= 10,
        "{repeated} texts repeated (5 in flight per round)"
    );
}
