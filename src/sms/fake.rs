//! A stand-in for Twilio's Messages API on loopback, for tests and for app developers
//! without an account: it checks basic auth (the account SID and auth token it was started
//! with), the form fields Twilio requires, that `To` is E.164, and answers as Twilio does
//! (201 with a message `sid`, or Twilio's error JSON). Failures can be scripted.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A text the stand-in accepted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReceivedSms {
    pub sid: String,
    pub to: String,
    /// `From`, or the Messaging Service SID when that was sent instead.
    pub from: String,
    pub body: String,
}

pub struct FakeTwilioState {
    account_sid: String,
    auth_token: String,
    received: Mutex<Vec<ReceivedSms>>,
    /// Statuses to answer the next sends with (429, 500, 503, 400 …), in order.
    fail_next: Mutex<VecDeque<u16>>,
    requests: AtomicU64,
    latency_ms: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeTwilioState {
    pub fn received(&self) -> Vec<ReceivedSms> {
        lock(&self.received).clone()
    }

    /// Answers the next sends with these statuses (Twilio's error JSON), in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.fail_next).extend(statuses.iter().copied());
    }

    /// Waits this long before answering each send.
    pub fn set_latency_ms(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Every send request seen, refused ones included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

pub struct FakeTwilio {
    pub base_url: String,
    pub state: Arc<FakeTwilioState>,
}

impl FakeTwilio {
    /// Binds `bind` (port 0 for any) for an account with these credentials; returns the
    /// stand-in and the server to run.
    pub fn start(
        bind: &str,
        account_sid: &str,
        auth_token: &str,
    ) -> anyhow::Result<(FakeTwilio, Server)> {
        let listener = TcpListener::bind(bind)?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(FakeTwilioState {
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            received: Mutex::new(Vec::new()),
            fail_next: Mutex::new(VecDeque::new()),
            requests: AtomicU64::new(0),
            latency_ms: AtomicU64::new(0),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    web::post().to(create_message),
                )
                .route("/fake/messages", web::get().to(list_received))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok((FakeTwilio { base_url, state }, server))
    }
}

/// Twilio's error answer.
fn error(status: u16, code: u32, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default()).json(
        json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    )
}

fn authorised(req: &HttpRequest, state: &FakeTwilioState) -> bool {
    let Some(value) = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    decoded == format!("{}:{}", state.account_sid, state.auth_token).into_bytes()
}

async fn create_message(
    req: HttpRequest,
    state: web::Data<FakeTwilioState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let latency = state.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    if !authorised(&req, &state) || path.as_str() != state.account_sid {
        return error(401, 20003, "Authenticate");
    }
    if let Some(status) = lock(&state.fail_next).pop_front() {
        let (code, message) = match status {
            429 => (20429, "Too Many Requests"),
            400 => (21211, "The 'To' number is not a valid phone number."),
            _ => (20500, "Internal Server Error"),
        };
        return error(status, code, message);
    }
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let Some(to) = field("To") else {
        return error(400, 21604, "A 'To' phone number is required.");
    };
    let Some(from) = field("From").or_else(|| field("MessagingServiceSid")) else {
        return error(400, 21603, "A 'From' phone number is required.");
    };
    let Some(body) = field("Body").filter(|b| !b.is_empty()) else {
        return error(400, 21602, "Message body is required.");
    };
    let e164 = to.starts_with('+') && to.len() > 8 && to[1..].chars().all(|c| c.is_ascii_digit());
    if !e164 {
        return error(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let n = state.requests.load(Ordering::Relaxed);
    let sid = format!("SM{n:032x}");
    lock(&state.received).push(ReceivedSms {
        sid: sid.clone(),
        to: to.clone(),
        from: from.clone(),
        body: body.clone(),
    });
    HttpResponse::Created().json(json!({
        "sid": sid,
        "account_sid": state.account_sid,
        "to": to,
        "from": from,
        "body": body,
        "status": "queued",
        "num_segments": "1",
        "api_version": "2010-04-01",
    }))
}

async fn list_received(state: web::Data<FakeTwilioState>) -> HttpResponse {
    HttpResponse::Ok().json(state.received())
}
