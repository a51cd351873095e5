//! LINE over real HTTP: the webhook's signature, linking a resident by a code sent in the
//! chat (answered through a stand-in of the Messaging API), unfollow and erasure
//! unlinking, and the push client's retry key.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem_code, spawn_app_with, TestApp};

pub(crate) const SECRET: &str = "line-channel-secret-for-tests";
pub(crate) const TOKEN: &str = "line-channel-access-token";

struct LineRig {
    app: TestApp,
    line: ocod::line::fake::FakeLine,
}

async fn spawn_line_app() -> LineRig {
    let (line, server) =
        ocod::line::fake::FakeLine::start("127.0.0.1:0", TOKEN).expect("fake LINE");
    tokio::spawn(server);
    let app = spawn_app_with(&[
        ("OCOD_LINE_CHANNEL_SECRET", SECRET),
        ("OCOD_LINE_CHANNEL_TOKEN", TOKEN),
        ("OCOD_LINE_ENDPOINT", &line.base_url),
        ("OCOD_LINE_ADD_FRIEND_URL", "https://line.me/R/ti/p/@ocod"),
    ])
    .await;
    LineRig { app, line }
}

pub(crate) fn sign(body: &str, secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl LineRig {
    async fn webhook(&self, body: &str, signature: Option<&str>) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .post(self.app.url("/webhooks/line"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = signature {
            req = req.header("x-line-signature", s);
        }
        req.send().await.unwrap()
    }

    async fn event(&self, event: Value) -> reqwest::Response {
        let body = json!({ "destination": "Uocod", "events": [event] }).to_string();
        self.webhook(&body, Some(&sign(&body, SECRET))).await
    }

    /// Waits for the stand-in to have `n` replies.
    async fn replies(&self, n: usize) -> Vec<ocod::line::fake::LineMessage> {
        let started = std::time::Instant::now();
        while self.line.state.received().len() < n {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "no reply"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.line.state.received()
    }

    async fn linked(&self, token: &str) -> bool {
        let me: Value = self
            .app
            .get("/api/v1/me", Some(token))
            .await
            .json()
            .await
            .unwrap();
        me["line_linked"].as_bool().expect("line_linked in GET /me")
    }
}

pub(crate) fn text_event(line_user: &str, text: &str, reply: &str) -> Value {
    json!({
        "type": "message", "replyToken": reply, "mode": "active", "timestamp": 1,
        "source": { "type": "user", "userId": line_user },
        "message": { "id": "1", "type": "text", "text": text }
    })
}

#[tokio::test]
async fn the_webhook_refuses_a_missing_or_wrong_signature_before_reading_the_body() {
    let rig = spawn_line_app().await;
    let body =
        json!({ "events": [{ "type": "unfollow", "source": { "userId": "U1" } }] }).to_string();
    for signature in [
        None,
        Some("bm90IGl0"),
        Some(sign(&body, "another-secret").as_str()),
    ] {
        let res = rig.webhook(&body, signature).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{signature:?}");
        assert_eq!(problem_code(res).await, "invalid_signature");
    }
    // Not even JSON, unsigned: still 401, not a parse error.
    let res = rig.webhook("{not json", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Signed but not JSON: 400.
    let res = rig
        .webhook("{not json", Some(&sign("{not json", SECRET)))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Signed right: 200.
    let res = rig.webhook(&body, Some(&sign(&body, SECRET))).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A server with no official account connected verifies nothing.
    let bare = crate::helpers::spawn_app().await;
    let res = bare
        .client
        .post(bare.url("/webhooks/line"))
        .header("x-line-signature", sign(&body, SECRET))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_code_sent_in_the_chat_links_the_account_and_unfollow_or_erasure_unlinks_it() {
    let rig = spawn_line_app().await;
    let resident = rig.app.resident().await;
    assert!(!rig.linked(&resident.access).await);
    let res = rig
        .app
        .post("/api/v1/me/line/link", Some(&resident.access))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let link: Value = res.json().await.unwrap();
    let code = link["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert_eq!(link["add_friend_url"], "https://line.me/R/ti/p/@ocod");

    // Following the account is greeted; a wrong code is answered so; the right one links.
    rig.event(json!({ "type": "follow", "replyToken": "r-follow", "source": { "type": "user", "userId": "U-somsri" } }))
        .await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = rig.event(text_event("U-somsri", wrong, "r-wrong")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!rig.linked(&resident.access).await);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    rig.event(text_event("U-somsri", &spaced, "r-right")).await;
    assert!(rig.linked(&resident.access).await);
    let replies = rig.replies(3).await;
    let by_token = |t: &str| {
        replies
            .iter()
            .find(|r| r.reply_token.as_deref() == Some(t))
            .cloned()
            .unwrap()
    };
    assert!(by_token("r-follow").text.contains("6"));
    assert!(by_token("r-wrong").text.contains("หมดอายุ"));
    assert!(
        by_token("r-right").text.starts_with("เชื่อมบัญชีแล้ว"),
        "{:?}",
        by_token("r-right")
    );
    // The code is used up.
    rig.event(text_event("U-stranger", &code, "r-again")).await;
    assert!(rig.linked(&resident.access).await);

    // Unfollowing the account unlinks.
    rig.event(json!({ "type": "unfollow", "source": { "type": "user", "userId": "U-somsri" } }))
        .await;
    assert!(!rig.linked(&resident.access).await);

    // Linked again, then unlinked by the resident, then linked and erased.
    for unlink in ["delete", "erase"] {
        let link: Value = rig
            .app
            .post("/api/v1/me/line/link", Some(&resident.access))
            .await
            .json()
            .await
            .unwrap();
        rig.event(text_event(
            "U-somsri",
            link["code"].as_str().unwrap(),
            "r-link",
        ))
        .await;
        assert!(rig.linked(&resident.access).await);
        if unlink == "delete" {
            let res = rig
                .app
                .delete("/api/v1/me/line", Some(&resident.access))
                .await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            assert!(!rig.linked(&resident.access).await);
        } else {
            let res = rig.app.delete("/api/v1/me", Some(&resident.access)).await;
            assert!(res.status().is_success());
            assert_eq!(rig.app.count("line_links").await, 0);
        }
    }
}

#[tokio::test]
async fn guessing_codes_in_the_chat_is_cut_off() {
    let rig = spawn_line_app().await;
    let resident = rig.app.resident().await;
    let link: Value = rig
        .app
        .post("/api/v1/me/line/link", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    let code = link["code"].as_str().unwrap();
    for n in 0..5 {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + n) % 1_000_000);
        rig.event(text_event("U-guesser", &guess, &format!("r{n}")))
            .await;
    }
    assert_eq!(rig.replies(5).await.len(), 5, "each wrong guess answered");
    // After five codes in an hour, even the right one is not taken from that account, and
    // nothing is answered.
    rig.event(text_event("U-guesser", code, "r-right")).await;
    assert!(!rig.linked(&resident.access).await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rig.line.state.received().len(), 5);
    // The resident's own LINE account still links with the code.
    rig.event(text_event("U-somsri", code, "r-own")).await;
    assert!(rig.linked(&resident.access).await);
}

#[tokio::test]
async fn the_push_client_sends_with_a_retry_key_and_reads_409_as_delivered() {
    let (line, server) = ocod::line::fake::FakeLine::start("127.0.0.1:0", TOKEN).unwrap();
    tokio::spawn(server);
    let settings = ocod::config::LineSettings {
        channel_secret: ocod::config::Secret::new(SECRET.into()),
        channel_token: ocod::config::Secret::new(TOKEN.into()),
        endpoint: line.base_url.clone(),
        add_friend_url: None,
    };
    let client = ocod::line::client::LineClient::new(&settings).unwrap();
    use ocod::line::client::PushOutcome;
    let key = uuid::Uuid::now_v7().to_string();
    line.state.fail_next(&[500]);
    assert!(matches!(
        client.push("U1", "รอบอบรมถูกยกเลิก", &key).await,
        PushOutcome::Retry(_)
    ));
    assert_eq!(
        client.push("U1", "รอบอบรมถูกยกเลิก", &key).await,
        PushOutcome::Sent
    );
    // A retry of the same delivery: LINE answers 409, which means it was delivered.
    assert_eq!(
        client.push("U1", "รอบอบรมถูกยกเลิก", &key).await,
        PushOutcome::Sent
    );
    assert_eq!(line.state.received().len(), 1, "delivered once");
    assert_eq!(
        line.state.received()[0].retry_key.as_deref(),
        Some(key.as_str())
    );
    line.state.fail_next(&[403]);
    let other = uuid::Uuid::now_v7().to_string();
    assert!(matches!(
        client.push("U2", "x", &other).await,
        PushOutcome::Unreachable(_)
    ));
    // A wrong token is refused by the stand-in as by LINE.
    let wrong = ocod::line::client::LineClient::new(&ocod::config::LineSettings {
        channel_token: ocod::config::Secret::new(b"wrong".to_vec()),
        ..settings
    })
    .unwrap();
    let third = uuid::Uuid::now_v7().to_string();
    assert!(matches!(
        wrong.push("U3", "x", &third).await,
        PushOutcome::Failed(_)
    ));
}
