//! A stand-in for the LINE Messaging API on loopback, for tests: it checks the bearer
//! token and the shape of replies and pushes, keeps what it accepted, answers a push
//! whose `X-Line-Retry-Key` it has seen with 409 (as LINE does), and can be told to fail,
//! to be slow, to lose its answers (accept, then answer 500, as a dropped connection
//! looks to the sender) and that a user blocked the account.

use std::collections::{HashSet, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A message the stand-in accepted: a reply (to a reply token) or a push (to a user).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LineMessage {
    pub reply_token: Option<String>,
    pub to: Option<String>,
    pub text: String,
    pub retry_key: Option<String>,
}

pub struct FakeLineState {
    token: String,
    received: Mutex<Vec<LineMessage>>,
    retry_keys: Mutex<HashSet<String>>,
    fail_next: Mutex<VecDeque<u16>>,
    blocked: Mutex<HashSet<String>>,
    lose_answers: Mutex<usize>,
    latency_ms: std::sync::atomic::AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeLineState {
    pub fn received(&self) -> Vec<LineMessage> {
        lock(&self.received).clone()
    }

    /// Answers the next pushes with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.fail_next).extend(statuses.iter().copied());
    }

    /// Pushes accepted so far.
    pub fn pushes(&self) -> Vec<LineMessage> {
        lock(&self.received)
            .iter()
            .filter(|m| m.to.is_some())
            .cloned()
            .collect()
    }

    /// This LINE user blocked the official account: pushes to them are refused (403).
    pub fn block(&self, line_user: &str) {
        lock(&self.blocked).insert(line_user.to_string());
    }

    /// Accepts the next `n` pushes but answers them 500, as if the answer were lost.
    pub fn lose_answers(&self, n: usize) {
        *lock(&self.lose_answers) += n;
    }

    /// Waits this long before answering each push.
    pub fn set_latency_ms(&self, ms: u64) {
        self.latency_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

pub struct FakeLine {
    pub base_url: String,
    pub state: Arc<FakeLineState>,
}

impl FakeLine {
    /// Binds `bind` (port 0 for any) for a channel with this access token.
    pub fn start(bind: &str, channel_token: &str) -> anyhow::Result<(FakeLine, Server)> {
        let listener = TcpListener::bind(bind)?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(FakeLineState {
            token: channel_token.to_string(),
            received: Mutex::new(Vec::new()),
            retry_keys: Mutex::new(HashSet::new()),
            fail_next: Mutex::new(VecDeque::new()),
            blocked: Mutex::new(HashSet::new()),
            lose_answers: Mutex::new(0),
            latency_ms: std::sync::atomic::AtomicU64::new(0),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v2/bot/message/reply", web::post().to(reply))
                .route("/v2/bot/message/push", web::post().to(push))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok((FakeLine { base_url, state }, server))
    }
}

fn refused(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .json(json!({ "message": message }))
}

fn authorised(req: &HttpRequest, state: &FakeLineState) -> bool {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", state.token))
}

/// The one text message of a request, as LINE requires it: `[{type: "text", text}]`.
fn text_of(body: &Value) -> Option<String> {
    let messages = body["messages"].as_array()?;
    let first = messages.first()?;
    (messages.len() <= 5 && first["type"] == "text")
        .then(|| first["text"].as_str().map(str::to_string))
        .flatten()
        .filter(|t| !t.is_empty() && t.chars().count() <= 5000)
}

async fn reply(
    req: HttpRequest,
    state: web::Data<FakeLineState>,
    body: web::Json<Value>,
) -> HttpResponse {
    if !authorised(&req, &state) {
        return refused(401, "Authentication failed. Confirm that the access token in the authorization header is valid.");
    }
    let (Some(token), Some(text)) = (body["replyToken"].as_str(), text_of(&body)) else {
        return refused(400, "The request body has 1 error(s)");
    };
    lock(&state.received).push(LineMessage {
        reply_token: Some(token.to_string()),
        to: None,
        text,
        retry_key: None,
    });
    HttpResponse::Ok().json(json!({}))
}

async fn push(
    req: HttpRequest,
    state: web::Data<FakeLineState>,
    body: web::Json<Value>,
) -> HttpResponse {
    if !authorised(&req, &state) {
        return refused(401, "Authentication failed. Confirm that the access token in the authorization header is valid.");
    }
    let latency = state.latency_ms.load(std::sync::atomic::Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let retry_key = req
        .headers()
        .get("x-line-retry-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(key) = &retry_key {
        if uuid::Uuid::parse_str(key).is_err() {
            return refused(
                400,
                "The value for the 'X-Line-Retry-Key' header is invalid",
            );
        }
        if lock(&state.retry_keys).contains(key) {
            return refused(409, "The retry key is already accepted");
        }
    }
    if let Some(status) = lock(&state.fail_next).pop_front() {
        return refused(status, "scripted failure");
    }
    let (Some(to), Some(text)) = (body["to"].as_str(), text_of(&body)) else {
        return refused(400, "The request body has 1 error(s)");
    };
    if lock(&state.blocked).contains(to) {
        return refused(
            403,
            "The user hasn't added the LINE Official Account as a friend.",
        );
    }
    if let Some(key) = &retry_key {
        lock(&state.retry_keys).insert(key.clone());
    }
    lock(&state.received).push(LineMessage {
        reply_token: None,
        to: Some(to.to_string()),
        text,
        retry_key,
    });
    {
        let mut lose = lock(&state.lose_answers);
        if *lose > 0 {
            *lose -= 1;
            return refused(500, "Internal server error");
        }
    }
    HttpResponse::Ok().json(json!({ "sentMessages": [{ "id": "1", "quoteToken": "q" }] }))
}
