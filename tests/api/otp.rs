//! Sign-in by a one-time code sent by SMS, over real HTTP, with the texts sent by the
//! worker to a stand-in that speaks Twilio's Messages API: the rules one by one, the
//! provider's errors, single use under contention, erasure.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem_code, settings_for, spawn_configured, unique_phone, TestApp, TestDb};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token-for-tests";
const FROM: &str = "MG0123456789abcdef0123456789abcdef";

/// A server whose texts go to a fake Twilio, with the worker stepped by the test.
struct SmsRig {
    app: TestApp,
    twilio: ocod::sms::fake::FakeTwilio,
    worker: ocod::push::worker::PushWorker,
}

async fn spawn_sms_app(overrides: &[(&str, &str)]) -> SmsRig {
    spawn_sms_app_as(overrides, SID, TOKEN).await
}

/// The same, with the credentials OCOD is given (the fake knows the right ones).
async fn spawn_sms_app_as(overrides: &[(&str, &str)], sid: &str, token: &str) -> SmsRig {
    let (twilio, server) =
        ocod::sms::fake::FakeTwilio::start("127.0.0.1:0", SID, TOKEN).expect("fake Twilio");
    tokio::spawn(server);
    let mut all: Vec<(&str, &str)> = vec![
        ("OCOD_SMS_PROVIDER", "twilio"),
        ("TWILIO_ACCOUNT_SID", sid),
        ("TWILIO_AUTH_TOKEN", token),
        ("OCOD_SMS_FROM", FROM),
        ("OCOD_TWILIO_ENDPOINT", &twilio.base_url),
    ];
    all.extend_from_slice(overrides);
    let db = std::sync::Arc::new(TestDb::create());
    let app = spawn_configured(db, &all, |s| s.run_worker = false).await;
    let settings = settings_for(app.db.url(), &all);
    let worker = ocod::push::worker::PushWorker::from_settings(app.pool.clone(), &settings, None)
        .expect("worker");
    SmsRig {
        app,
        twilio,
        worker,
    }
}

impl SmsRig {
    async fn request(&self, phone: &str) -> reqwest::Response {
        self.app
            .post_json("/api/v1/auth/otp/request", &json!({ "phone": phone }), None)
            .await
    }

    async fn verify(&self, body: Value) -> reqwest::Response {
        self.app
            .post_json("/api/v1/auth/otp/verify", &body, None)
            .await
    }

    /// Runs the worker until the fake has `n` texts, and returns them.
    async fn texts(&self, n: usize) -> Vec<ocod::sms::fake::ReceivedSms> {
        let started = std::time::Instant::now();
        while self.twilio.state.received().len() < n {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "only {} texts arrived",
                self.twilio.state.received().len()
            );
            if self.worker.step().await.expect("worker round").is_idle() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        self.twilio.state.received()
    }

    /// The code in the latest text to `phone` (E.164).
    async fn code_sent_to(&self, e164: &str, nth_text: usize) -> String {
        let texts = self.texts(nth_text).await;
        let text = texts
            .iter()
            .rev()
            .find(|t| t.to == e164)
            .expect("a text to the phone");
        text.body
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("six digits in the text")
            .to_string()
    }

    async fn sms_rows(&self, status: &str) -> i64 {
        let pool = self.app.pool.clone();
        let status = status.to_string();
        tokio::task::spawn_blocking(move || {
            use diesel::prelude::*;
            use ocod::schema::sms_messages;
            let mut conn = pool.get().unwrap();
            sms_messages::table
                .filter(sms_messages::status.eq(status))
                .count()
                .get_result::<i64>(&mut conn)
                .unwrap()
        })
        .await
        .unwrap()
    }
}

fn e164(local: &str) -> String {
    format!("+66{}", &local[1..])
}

#[tokio::test]
async fn a_code_by_sms_signs_in_a_desk_made_resident_and_signs_up_a_new_phone() {
    let rig = spawn_sms_app(&[]).await;
    let app = &rig.app;
    // A resident registered at the desk: phone only, no password.
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let phone = unique_phone();
    let res = app
        .post_json(
            &format!("/api/v1/sessions/{session}/enrollments"),
            &json!({ "phone": phone, "display_name": "ยายมา" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let roster: Value = app
        .get(
            &format!("/api/v1/sessions/{session}/enrollments"),
            Some(&net.staff.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let walk_in = roster["items"][0]["user"]["id"].clone();
    assert!(walk_in.is_string(), "{roster}");

    let res = rig.request(&phone).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "expires_in": 600, "resend_after": 60 }));
    // The worker sends it, never the request: nothing went out yet.
    assert_eq!(rig.twilio.state.received().len(), 0);
    let texts = rig.texts(1).await;
    assert_eq!(texts[0].to, e164(&phone));
    assert_eq!(texts[0].from, FROM, "sent as the Messaging Service");
    assert!(
        texts[0].body.starts_with("รหัส OCOD ของคุณคือ "),
        "{}",
        texts[0].body
    );
    assert!(texts[0].body.chars().count() <= 70, "one UCS-2 segment");
    let code = rig.code_sent_to(&e164(&phone), 1).await;

    let res = rig.verify(json!({ "phone": phone, "code": code })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["user"]["id"], walk_in);
    assert_eq!(pair["user"]["display_name"], "ยายมา");
    let me = app
        .get("/api/v1/me", Some(pair["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    // Single use.
    let res = rig.verify(json!({ "phone": phone, "code": code })).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem_code(res).await, "otp_invalid");

    // A phone with no account: the text in the request's language; a name makes it one.
    let new_phone = unique_phone();
    let res = app
        .client
        .post(app.url("/api/v1/auth/otp/request"))
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({ "phone": new_phone }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let texts = rig.texts(2).await;
    assert!(
        texts[1].body.starts_with("Your OCOD code is "),
        "{}",
        texts[1].body
    );
    let code = rig.code_sent_to(&e164(&new_phone), 2).await;
    let res = rig
        .verify(json!({ "phone": new_phone, "code": code }))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem_code(res).await, "display_name_required");
    // That did not use the code up.
    // The new account speaks the language the app asks in.
    let res = app
        .client
        .post(app.url("/api/v1/auth/otp/verify"))
        .header("accept-language", "en")
        .json(&json!({ "phone": new_phone, "code": code, "display_name": "Somchai" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["user"]["phone"], e164(&new_phone));
    assert_eq!(pair["user"]["locale"], "en");
    assert_eq!(pair["user"]["role"], "resident");
}

#[tokio::test]
async fn known_and_unknown_phones_get_the_same_answer_and_only_mobiles_are_texted() {
    let rig = spawn_sms_app(&[]).await;
    let known = unique_phone();
    let res = rig
        .app
        .register(json!({ "phone": known, "password": "password-123", "display_name": "สมศรี" }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let unknown = unique_phone();
    let a = rig.request(&known).await;
    let b = rig.request(&unknown).await;
    assert_eq!(a.status(), b.status());
    assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
    // A landline cannot receive a text; a number that is not Thai is refused as such.
    for (phone, code) in [
        ("02-123-4567", "phone_not_mobile"),
        ("+1 415 555 0100", "phone_not_thai"),
    ] {
        let res = rig.request(phone).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{phone}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    }
    assert_eq!(rig.texts(2).await.len(), 2);
}

#[tokio::test]
async fn a_second_code_within_a_minute_is_refused_and_sends_nothing() {
    let rig = spawn_sms_app(&[]).await;
    let phone = unique_phone();
    assert_eq!(rig.request(&phone).await.status(), StatusCode::ACCEPTED);
    let res = rig.request(&phone).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = crate::helpers::retry_after(&res);
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(problem_code(res).await, "otp_too_soon");
    assert_eq!(rig.sms_rows("pending").await, 1, "one text queued");
    // Another phone is not held up.
    assert_eq!(
        rig.request(&unique_phone()).await.status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn four_wrong_codes_then_the_right_one_signs_in_and_the_fifth_wrong_burns_it() {
    let rig = spawn_sms_app(&[("OCOD_OTP_RESEND_AFTER", "0s")]).await;
    let phone = unique_phone();
    rig.app
        .register(json!({ "phone": phone, "password": "password-123", "display_name": "มานพ" }))
        .await;
    rig.request(&phone).await;
    let code = rig.code_sent_to(&e164(&phone), 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let res = rig.verify(json!({ "phone": phone, "code": wrong })).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(problem_code(res).await, "otp_invalid");
    }
    let res = rig.verify(json!({ "phone": phone, "code": code })).await;
    assert_eq!(res.status(), StatusCode::OK);

    rig.request(&phone).await;
    let code = rig.code_sent_to(&e164(&phone), 2).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(
            rig.verify(json!({ "phone": phone, "code": wrong }))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = rig.verify(json!({ "phone": phone, "code": code })).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "burned");

    // A newer code replaces the older one.
    rig.request(&phone).await;
    let older = rig.code_sent_to(&e164(&phone), 3).await;
    rig.request(&phone).await;
    let newer = rig.code_sent_to(&e164(&phone), 4).await;
    if older != newer {
        let res = rig.verify(json!({ "phone": phone, "code": older })).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "replaced");
    }
    let res = rig.verify(json!({ "phone": phone, "code": newer })).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_code_expires() {
    let rig = spawn_sms_app(&[("OCOD_OTP_TTL", "1s")]).await;
    let phone = unique_phone();
    rig.app
        .register(json!({ "phone": phone, "password": "password-123", "display_name": "อำไพ" }))
        .await;
    rig.request(&phone).await;
    let code = rig.code_sent_to(&e164(&phone), 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let res = rig.verify(json!({ "phone": phone, "code": code })).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem_code(res).await, "otp_invalid");
}

#[tokio::test]
async fn codes_are_capped_per_phone_per_address_and_per_day() {
    let rig = spawn_sms_app(&[
        ("OCOD_OTP_RESEND_AFTER", "0s"),
        ("OCOD_OTP_PER_PHONE_PER_HOUR", "2"),
        ("OCOD_OTP_PER_ADDRESS_PER_HOUR", "4"),
    ])
    .await;
    let phone = unique_phone();
    for _ in 0..2 {
        assert_eq!(rig.request(&phone).await.status(), StatusCode::ACCEPTED);
    }
    let res = rig.request(&phone).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem_code(res).await, "too_many_codes");
    // The same address: two more phones, then it is refused too.
    for _ in 0..2 {
        assert_eq!(
            rig.request(&unique_phone()).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let res = rig.request(&unique_phone()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(rig.sms_rows("pending").await, 4);

    let rig = spawn_sms_app(&[("OCOD_OTP_PER_DAY", "2")]).await;
    for _ in 0..2 {
        assert_eq!(
            rig.request(&unique_phone()).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let res = rig.request(&unique_phone()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem_code(res).await, "too_many_codes");
}

#[tokio::test]
async fn the_right_code_sent_twice_at_once_signs_in_once() {
    let rig = spawn_sms_app(&[]).await;
    let phone = unique_phone();
    rig.app
        .register(json!({ "phone": phone, "password": "password-123", "display_name": "ทองใบ" }))
        .await;
    rig.request(&phone).await;
    let code = rig.code_sent_to(&e164(&phone), 1).await;
    let body = json!({ "phone": phone, "code": code });
    let (a, b) = tokio::join!(rig.verify(body.clone()), rig.verify(body.clone()));
    let mut statuses = vec![a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

#[tokio::test]
async fn twilio_429_and_5xx_are_retried_and_a_refused_number_fails_for_good() {
    let rig = spawn_sms_app(&[]).await;
    rig.twilio.state.fail_next(&[429, 503]);
    let phone = unique_phone();
    rig.request(&phone).await;
    let started = std::time::Instant::now();
    while rig.sms_rows("sent").await < 1 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never sent"
        );
        rig.worker.step().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // Backoff: make the retry due now rather than wait seconds in a test.
        let pool = rig.app.pool.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::prelude::*;
            use ocod::schema::sms_messages;
            let mut conn = pool.get().unwrap();
            diesel::update(sms_messages::table.filter(sms_messages::status.eq("pending")))
                .set(sms_messages::due_at.eq(ocod::db::now()))
                .execute(&mut conn)
                .unwrap();
        })
        .await
        .unwrap();
    }
    assert_eq!(rig.twilio.state.requests(), 3, "two refusals, then sent");
    assert_eq!(rig.twilio.state.received().len(), 1, "sent once");

    rig.twilio.state.fail_next(&[400]);
    let other = unique_phone();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    rig.request(&other).await;
    rig.worker.step().await.unwrap();
    assert_eq!(rig.sms_rows("failed").await, 1);
    assert_eq!(rig.twilio.state.received().len(), 1);
}

#[tokio::test]
async fn wrong_twilio_credentials_fail_with_twilios_reason() {
    let rig = spawn_sms_app_as(&[], SID, "not-the-token").await;
    rig.request(&unique_phone()).await;
    rig.worker.step().await.unwrap();
    assert_eq!(rig.sms_rows("failed").await, 1);
    let pool = rig.app.pool.clone();
    let reason: Option<String> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use ocod::schema::sms_messages;
        let mut conn = pool.get().unwrap();
        sms_messages::table
            .select(sms_messages::last_error)
            .first(&mut conn)
            .unwrap()
    })
    .await
    .unwrap();
    assert!(reason.unwrap().contains("20003"), "Twilio's code");
}

#[tokio::test]
async fn erasure_forgets_the_phones_codes_and_unsent_texts() {
    let rig = spawn_sms_app(&[]).await;
    let phone = unique_phone();
    let who = TestApp::signed_in_from(
        rig.app
            .register(json!({ "phone": phone, "password": "password-123", "display_name": "ชูชาติ" }))
            .await,
    )
    .await;
    rig.request(&phone).await;
    assert_eq!(rig.sms_rows("pending").await, 1);
    let res = rig.app.delete("/api/v1/me", Some(&who.access)).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(rig.sms_rows("pending").await, 0);
    assert_eq!(rig.app.count("otp_codes").await, 0);
}

#[tokio::test]
async fn a_worker_that_dies_after_claiming_loses_no_text() {
    let rig = spawn_sms_app(&[("OCOD_PUSH_LEASE", "1s")]).await;
    let phone = unique_phone();
    rig.request(&phone).await;
    // Another worker claims the text and dies before sending or recording it.
    let pool = rig.app.pool.clone();
    let claimed = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        ocod::sms::outbox::claim(&mut conn, std::time::Duration::from_secs(1), 10).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    // While its lease holds, nobody else sends it.
    rig.worker.step().await.unwrap();
    assert_eq!(rig.twilio.state.requests(), 0);
    // Then it is taken over and sent, once.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let texts = rig.texts(1).await;
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].to, e164(&phone));
    for _ in 0..3 {
        rig.worker.step().await.unwrap();
    }
    assert_eq!(rig.twilio.state.requests(), 1);
}

#[tokio::test]
async fn the_servers_own_worker_sends_codes_and_counts_them_in_metrics() {
    // No provider configured: texts go to the log (as with --dev), and are counted.
    let app = crate::helpers::spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/otp/request",
            &json!({ "phone": unique_phone() }),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let started = std::time::Instant::now();
    loop {
        let metrics = app.get("/metrics", None).await.text().await.unwrap();
        let counted = metrics.lines().any(|l| {
            l.starts_with("ocod_sms_total{")
                && l.contains("purpose=\"otp\"")
                && l.contains("outcome=\"sent\"")
                && l.ends_with(" 1")
        });
        if counted {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
