//! A fake of Firebase Cloud Messaging HTTP v1 for tests and for app developers (`ocod
//! fake-fcm`). It speaks the real protocol: the token endpoint checks the RS256 JWT-bearer
//! assertion, `messages:send` requires a token it issued, checks the message's shape (one
//! target, string-only data, size limit) and answers with Google's error bodies and status
//! codes. Faults can be injected: latency, 429/500/503 with `Retry-After`, dead tokens,
//! revoked access tokens.
//!
//! The service-account key it accepts is a throw-away key committed for this purpose only
//! (`key.pem`); it must never be used with Google.

use std::collections::{HashSet, VecDeque};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::fcm::ServiceAccount;

/// The throw-away private key of the fake's service account.
pub const FAKE_PRIVATE_KEY: &str = include_str!("key.pem");
pub const FAKE_PROJECT: &str = "ocod-fake";
pub const FAKE_CLIENT_EMAIL: &str = "ocod-push@ocod-fake.iam.gserviceaccount.com";
/// FCM's limit on a message's payload (notification and data), in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// A service-account key for the fake listening at `base_url`.
pub fn service_account(base_url: &str) -> ServiceAccount {
    ServiceAccount {
        project_id: FAKE_PROJECT.into(),
        client_email: FAKE_CLIENT_EMAIL.into(),
        private_key: FAKE_PRIVATE_KEY.into(),
        private_key_id: Some("fake-key-1".into()),
        token_uri: format!("{}/token", base_url.trim_end_matches('/')),
    }
}

/// A message the fake accepted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Received {
    pub token: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Map<String, Value>,
    pub collapse_key: Option<String>,
    pub apns_collapse_id: Option<String>,
    pub ttl: Option<String>,
    /// The HTTP version the message came over (`HTTP/2.0`, `HTTP/1.1`).
    pub http_version: Option<String>,
}

/// A scripted failure for the next send.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fault {
    pub status: u16,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Answer with this many bytes of HTML instead of Google's JSON error, as a proxy
    /// or a broken endpoint might.
    #[serde(default)]
    pub junk_bytes: Option<usize>,
}

impl Fault {
    /// Google's error body for `status`, with `Retry-After` if given.
    pub fn new(status: u16, retry_after: Option<u64>) -> Self {
        Fault {
            status,
            retry_after,
            junk_bytes: None,
        }
    }
}

/// Changes to the fake's behaviour (also accepted as JSON at `POST /fake/control`).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Delay before answering each send.
    pub latency_ms: Option<u64>,
    /// Failures for the next sends, in order.
    #[serde(default)]
    pub fail_next: Vec<Fault>,
    /// Tokens to answer `UNREGISTERED` from now on.
    #[serde(default)]
    pub dead_tokens: Vec<String>,
    /// Forget every access token issued so far (sends then get 401).
    #[serde(default)]
    pub revoke_access_tokens: bool,
    /// Keep each accepted message for inspection (the default), or only count them (for
    /// load tests, so the fake's memory does not grow).
    pub keep_messages: Option<bool>,
    /// Claim this lifetime (seconds) for access tokens issued from now on (Google: 3599).
    pub token_expires_in: Option<u64>,
}

struct Behaviour {
    latency: Duration,
    faults: VecDeque<Fault>,
    dead: HashSet<String>,
    keep_messages: bool,
    token_expires_in: u64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            latency: Duration::ZERO,
            faults: VecDeque::new(),
            dead: HashSet::new(),
            keep_messages: true,
            token_expires_in: 3599,
        }
    }
}

/// What the fake knows and has seen.
pub struct FakeState {
    decoding: DecodingKey,
    token_uri: String,
    issued: Mutex<HashSet<String>>,
    behaviour: Mutex<Behaviour>,
    received: Mutex<Vec<Received>>,
    counter: AtomicU64,
    token_requests: AtomicU64,
    send_requests: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeState {
    pub fn control(&self, control: Control) {
        let mut b = lock(&self.behaviour);
        if let Some(ms) = control.latency_ms {
            b.latency = Duration::from_millis(ms);
        }
        b.faults.extend(control.fail_next);
        b.dead.extend(control.dead_tokens);
        if let Some(keep) = control.keep_messages {
            b.keep_messages = keep;
        }
        if let Some(secs) = control.token_expires_in {
            b.token_expires_in = secs;
        }
        drop(b);
        if control.revoke_access_tokens {
            lock(&self.issued).clear();
        }
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.received).clone()
    }

    /// Messages accepted so far (kept or only counted).
    pub fn received_count(&self) -> usize {
        self.counter.load(Ordering::Relaxed) as usize
    }

    pub fn clear_received(&self) {
        lock(&self.received).clear();
        self.counter.store(0, Ordering::Relaxed);
    }

    /// How many access tokens were requested (tests check the cache).
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// Every send attempt, answered with success or not.
    pub fn send_requests(&self) -> u64 {
        self.send_requests.load(Ordering::Relaxed)
    }
}

/// A running fake.
pub struct FakeFcm {
    pub base_url: String,
    pub state: Arc<FakeState>,
}

impl FakeFcm {
    /// Binds `bind` (port 0 for any) and returns the fake and the server to run. It speaks
    /// HTTP/1.1 and HTTP/2 in clear text (h2c with prior knowledge) on one port.
    pub fn start(bind: &str) -> anyhow::Result<(FakeFcm, Server)> {
        Self::start_speaking(bind, true)
    }

    /// The same fake speaking only HTTP/1.1, as many mocks and egress proxies do.
    pub fn start_http1_only(bind: &str) -> anyhow::Result<(FakeFcm, Server)> {
        Self::start_speaking(bind, false)
    }

    fn start_speaking(bind: &str, h2c: bool) -> anyhow::Result<(FakeFcm, Server)> {
        let listener = TcpListener::bind(bind)?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let public_pem = public_key_pem(FAKE_PRIVATE_KEY)?;
        let state = Arc::new(FakeState {
            decoding: DecodingKey::from_rsa_pem(public_pem.as_bytes())?,
            token_uri: format!("{base_url}/token"),
            issued: Mutex::new(HashSet::new()),
            behaviour: Mutex::new(Behaviour::default()),
            received: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            send_requests: AtomicU64::new(0),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(1024 * 1024))
                .route("/token", web::post().to(token))
                .route("/v1/projects/{project}/messages:send", web::post().to(send))
                .route("/fake/messages", web::get().to(list_received))
                .route("/fake/messages", web::delete().to(clear_received))
                .route("/fake/control", web::post().to(control))
        })
        .workers(2)
        .max_connection_rate(4096)
        .backlog(4096)
        .disable_signals();
        let server = if h2c {
            server.listen_auto_h2c(listener)?
        } else {
            server.listen(listener)?
        }
        .run();
        Ok((FakeFcm { base_url, state }, server))
    }
}

fn public_key_pem(private_pem: &str) -> anyhow::Result<String> {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    let private = rsa::PrivateKey::from_pkcs8_pem(private_pem)?;
    Ok(private.to_public_key().to_public_key_pem(LineEnding::LF)?)
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    scope: String,
}

async fn token(state: web::Data<FakeState>, form: web::Form<TokenForm>) -> HttpResponse {
    state.token_requests.fetch_add(1, Ordering::Relaxed);
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return HttpResponse::BadRequest().json(json!({ "error": "unsupported_grant_type", "error_description": "Invalid grant_type." }));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[state.token_uri.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims =
        match decode::<AssertionClaims>(&form.assertion, &state.decoding, &validation) {
            Ok(data) => data.claims,
            Err(_) => return HttpResponse::BadRequest().json(
                json!({ "error": "invalid_grant", "error_description": "Invalid JWT Signature." }),
            ),
        };
    if claims.iss != FAKE_CLIENT_EMAIL
        || !claims
            .scope
            .split(' ')
            .any(|s| s == "https://www.googleapis.com/auth/firebase.messaging")
    {
        return HttpResponse::BadRequest().json(json!({ "error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided." }));
    }
    let access = format!("ya29.fake-{}", uuid::Uuid::now_v7().simple());
    lock(&state.issued).insert(access.clone());
    let expires_in = lock(&state.behaviour).token_expires_in;
    HttpResponse::Ok()
        .json(json!({ "access_token": access, "expires_in": expires_in, "token_type": "Bearer" }))
}

/// Google's error body.
fn google_error(
    status: StatusCode,
    google_status: &str,
    message: &str,
    fcm_code: Option<&str>,
) -> HttpResponse {
    let mut error = json!({ "code": status.as_u16(), "message": message, "status": google_status });
    if let Some(code) = fcm_code {
        error["details"] = json!([{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code }]);
    }
    HttpResponse::build(status).json(json!({ "error": error }))
}

fn invalid_argument(field: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": {
        "code": 400, "message": description, "status": "INVALID_ARGUMENT",
        "details": [{ "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{ "field": field, "description": description }] }]
    }}))
}

async fn send(
    state: web::Data<FakeState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    state.send_requests.fetch_add(1, Ordering::Relaxed);
    let (latency, fault) = {
        let mut b = lock(&state.behaviour);
        (b.latency, b.faults.pop_front())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| lock(&state.issued).contains(t)) {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            None,
        );
    }
    if path.into_inner() != FAKE_PROJECT {
        return google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission denied on resource project.",
            Some("SENDER_ID_MISMATCH"),
        );
    }
    if let Some(fault) = fault {
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = match fault.status {
            _ if fault.junk_bytes.is_some() => HttpResponse::build(status)
                .content_type("text/html")
                .body("<html>".repeat(fault.junk_bytes.unwrap_or(0) / 6 + 1)),
            429 => google_error(
                status,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Send requests'.",
                Some("QUOTA_EXCEEDED"),
            ),
            500 => google_error(
                status,
                "INTERNAL",
                "Internal error encountered.",
                Some("INTERNAL"),
            ),
            _ => google_error(
                status,
                "UNAVAILABLE",
                "The service is currently unavailable.",
                Some("UNAVAILABLE"),
            ),
        };
        if let Some(secs) = fault.retry_after {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(secs),
            );
        }
        return response;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid_argument("", "Invalid JSON payload received.");
    };
    let message = &request["message"];
    if !message.is_object() {
        return invalid_argument("message", "Request contains an invalid argument.");
    }
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|t| message.get(**t).is_some())
        .count();
    if targets != 1 {
        return invalid_argument(
            "message",
            "Exactly one of token, topic or condition must be specified.",
        );
    }
    let data = message["data"].as_object().cloned().unwrap_or_default();
    for (i, (key, value)) in data.iter().enumerate() {
        if !value.is_string() {
            return invalid_argument(
                &format!("message.data[{i}].value"),
                &format!("Invalid value at 'message.data[{i}].value' (TYPE_STRING), {value}"),
            );
        }
        if key.starts_with("google") || key.starts_with("gcm") || key == "from" {
            return invalid_argument(&format!("message.data[{i}].key"), "Invalid data key.");
        }
    }
    let payload_size = serde_json::to_string(&message["data"])
        .map(|s| s.len())
        .unwrap_or(0)
        + serde_json::to_string(&message["notification"])
            .map(|s| s.len())
            .unwrap_or(0);
    if payload_size > MAX_PAYLOAD_BYTES {
        return google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Message is too big.",
            Some("INVALID_ARGUMENT"),
        );
    }
    let token = message["token"].as_str().unwrap_or("").to_string();
    if token.is_empty() || token.contains("invalid") || token.chars().any(char::is_whitespace) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            Some("INVALID_ARGUMENT"),
        );
    }
    if lock(&state.behaviour).dead.contains(&token) {
        return google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Requested entity was not found.",
            Some("UNREGISTERED"),
        );
    }
    if lock(&state.behaviour).keep_messages {
        let text = |v: &Value| v.as_str().map(str::to_string);
        lock(&state.received).push(Received {
            token,
            title: text(&message["notification"]["title"]).unwrap_or_default(),
            body: text(&message["notification"]["body"]).unwrap_or_default(),
            data,
            collapse_key: text(&message["android"]["collapse_key"]),
            apns_collapse_id: text(&message["apns"]["headers"]["apns-collapse-id"]),
            ttl: text(&message["android"]["ttl"]),
            http_version: Some(format!("{:?}", req.version())),
        });
    }
    let n = state.counter.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().json(json!({ "name": format!("projects/{FAKE_PROJECT}/messages/0:{n}") }))
}

async fn list_received(state: web::Data<FakeState>) -> HttpResponse {
    HttpResponse::Ok().json(state.received())
}

async fn clear_received(state: web::Data<FakeState>) -> HttpResponse {
    state.clear_received();
    HttpResponse::NoContent().finish()
}

async fn control(state: web::Data<FakeState>, body: web::Json<Control>) -> HttpResponse {
    state.control(body.into_inner());
    HttpResponse::NoContent().finish()
}
