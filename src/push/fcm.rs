//! Firebase Cloud Messaging HTTP v1: an OAuth 2.0 access token minted from the service
//! account by the JWT-bearer grant (RS256) and cached until shortly before it expires,
//! then `messages:send`, one device per request, many in flight over HTTP/2. Every answer
//! is classified as Google documents it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Mutex;

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// FCM allows about 100 concurrent streams per HTTP/2 connection.
const STREAMS_PER_CONNECTION: usize = 100;

/// The parts of a Google service-account key file that FCM needs.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServiceAccount {
    pub project_id: String,
    pub client_email: String,
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: Option<String>,
    pub token_uri: String,
}

impl ServiceAccount {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a service-account key: {e}", path.display()))
    }
}

/// One push to one device.
#[derive(Debug, Clone)]
pub struct Push {
    pub token: String,
    pub title: String,
    pub body: String,
    /// Strings only, as FCM requires.
    pub data: BTreeMap<String, String>,
    /// Android `tag` / collapse key and APNs `apns-collapse-id`: a resend replaces.
    pub collapse_key: String,
    /// After this, FCM should not bother delivering (the session has started).
    pub expires_at: Option<chrono::NaiveDateTime>,
}

impl Push {
    /// The HTTP v1 request body, written straight from the push (no JSON tree built per
    /// send: a broadcast serialises thousands a second).
    pub fn to_request(&self, now: chrono::NaiveDateTime) -> SendRequest<'_> {
        let ttl_secs = self
            .expires_at
            .map(|e| (e - now).num_seconds().clamp(0, 28 * 86_400))
            .unwrap_or(28 * 86_400);
        // APNs collapse IDs are at most 64 bytes.
        let collapse_id = match self.collapse_key.char_indices().nth(64) {
            Some((end, _)) => &self.collapse_key[..end],
            None => &self.collapse_key,
        };
        SendRequest {
            message: Message {
                token: &self.token,
                notification: Notification {
                    title: &self.title,
                    body: &self.body,
                },
                data: &self.data,
                android: Android {
                    collapse_key: &self.collapse_key,
                    ttl: format!("{ttl_secs}s"),
                    notification: AndroidNotification {
                        tag: &self.collapse_key,
                    },
                },
                apns: Apns {
                    headers: ApnsHeaders {
                        collapse_id,
                        expiration: self.expires_at.map(|e| e.and_utc().timestamp().to_string()),
                    },
                },
            },
        }
    }
}

/// `POST …/messages:send`'s body, as Google documents it.
#[derive(Debug, Serialize)]
pub struct SendRequest<'a> {
    message: Message<'a>,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    token: &'a str,
    notification: Notification<'a>,
    data: &'a BTreeMap<String, String>,
    android: Android<'a>,
    apns: Apns<'a>,
}

#[derive(Debug, Serialize)]
struct Notification<'a> {
    title: &'a str,
    body: &'a str,
}

#[derive(Debug, Serialize)]
struct Android<'a> {
    collapse_key: &'a str,
    ttl: String,
    notification: AndroidNotification<'a>,
}

#[derive(Debug, Serialize)]
struct AndroidNotification<'a> {
    tag: &'a str,
}

#[derive(Debug, Serialize)]
struct Apns<'a> {
    headers: ApnsHeaders<'a>,
}

#[derive(Debug, Serialize)]
struct ApnsHeaders<'a> {
    #[serde(rename = "apns-collapse-id")]
    collapse_id: &'a str,
    #[serde(rename = "apns-expiration", skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

/// What became of a push, in Google's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// The token is dead (`UNREGISTERED`, an invalid token, another sender's): forget it.
    InvalidToken(String),
    /// Try again later (429, 500, 503, network trouble), no sooner than `after` if given.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Will never work (a rejected message): give up and keep the reason.
    Failed(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

struct CachedToken {
    value: String,
    renew_after: Instant,
}

/// The FCM client; cheap to share behind an `Arc`.
pub struct FcmClient {
    account: ServiceAccount,
    key: EncodingKey,
    /// Parsed once: parsing it for every send showed in the fan-out's profile.
    send_url: reqwest::Url,
    token_http: reqwest::Client,
    /// Several HTTP/2 connections, used in turn, for more streams in flight.
    send_http: Vec<reqwest::Client>,
    next: AtomicUsize,
    /// For a plain `http://` endpoint that refuses HTTP/2 prior knowledge (a mock, an
    /// egress proxy): HTTP/1.1 with a pool of connections. `None` for HTTPS, where ALPN
    /// settles the protocol.
    http1: Option<reqwest::Client>,
    /// Set once the plain endpoint was found to speak only HTTP/1.1.
    use_http1: AtomicBool,
    token: Mutex<Option<CachedToken>>,
}

impl FcmClient {
    /// `endpoint` is `https://fcm.googleapis.com` or a fake's address; `concurrency` is how
    /// many pushes will be in flight at most.
    pub fn new(
        account: ServiceAccount,
        endpoint: &str,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes()).map_err(|e| {
            anyhow::anyhow!("the service account's private key is not a usable RSA key: {e}")
        })?;
        let plain_http = endpoint.starts_with("http://");
        let connections = concurrency.div_ceil(STREAMS_PER_CONNECTION).max(1);
        let mut send_http = Vec::with_capacity(connections);
        for _ in 0..connections {
            let mut builder = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                .pool_max_idle_per_host(1)
                .http2_keep_alive_interval(Duration::from_secs(30));
            // Google speaks HTTP/2 over TLS (ALPN); a local fake speaks it in clear text.
            builder = if plain_http {
                builder.http2_prior_knowledge()
            } else {
                builder.https_only(true)
            };
            send_http.push(builder.build()?);
        }
        let token_http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let http1 = if plain_http {
            Some(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .connect_timeout(Duration::from_secs(5))
                    .http1_only()
                    .pool_max_idle_per_host(concurrency.max(1))
                    .build()?,
            )
        } else {
            None
        };
        let send_url = reqwest::Url::parse(&format!(
            "{}/v1/projects/{}/messages:send",
            endpoint.trim_end_matches('/'),
            account.project_id
        ))
        .map_err(|e| anyhow::anyhow!("OCOD_FCM_ENDPOINT is not a usable URL: {e}"))?;
        Ok(FcmClient {
            account,
            key,
            send_url,
            token_http,
            send_http,
            next: AtomicUsize::new(0),
            http1,
            use_http1: AtomicBool::new(false),
            token: Mutex::new(None),
        })
    }

    pub fn project_id(&self) -> &str {
        &self.account.project_id
    }

    /// A valid access token, minting a new one when the cached one is near expiry or
    /// `stale` (the one FCM just refused).
    async fn access_token(&self, stale: Option<&str>) -> Result<String, Outcome> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            let refused = stale.is_some_and(|s| s == token.value);
            if !refused && Instant::now() < token.renew_after {
                return Ok(token.value.clone());
            }
        }
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.account.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.account.private_key_id.clone();
        let assertion = encode(&header, &claims, &self.key)
            .map_err(|e| Outcome::Failed(format!("cannot sign the token request: {e}")))?;
        let response = self
            .token_http
            .post(&self.account.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| Outcome::Retry {
                reason: format!("token endpoint unreachable: {e}"),
                after: None,
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(response, MAX_ERROR_BODY).await;
            let reason = format!(
                "token endpoint answered {status}: {}",
                body.chars().take(300).collect::<String>()
            );
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                Outcome::Retry {
                    reason,
                    after: None,
                }
            } else {
                Outcome::Failed(reason)
            });
        }
        let body = read_capped(response, MAX_TOKEN_BODY).await;
        let token: TokenResponse = serde_json::from_str(&body).map_err(|e| Outcome::Retry {
            reason: format!("token endpoint sent nonsense: {e}"),
            after: None,
        })?;
        // Google's tokens live an hour; a longer claim is not believed (and an absurd one
        // must not overflow the clock arithmetic below).
        let lifetime = Duration::from_secs(token.expires_in.min(MAX_TOKEN_LIFETIME_SECS));
        // Renew five minutes early (or halfway, for short-lived tokens).
        let margin = Duration::from_secs(300).min(lifetime / 2);
        *cached = Some(CachedToken {
            value: token.access_token.clone(),
            renew_after: Instant::now() + lifetime - margin,
        });
        Ok(token.access_token)
    }

    /// Posts one message. Over plain http, HTTP/2 prior knowledge is tried first; if the
    /// endpoint will not speak it (the request fails without an answer) and HTTP/1.1 gets
    /// one, HTTP/1.1 is used from then on.
    async fn post(&self, token: &str, body: &[u8]) -> Result<reqwest::Response, reqwest::Error> {
        let request = |client: &reqwest::Client| {
            client
                .post(self.send_url.clone())
                .bearer_auth(token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec())
                .send()
        };
        if let Some(http1) = &self.http1 {
            if self.use_http1.load(Ordering::Relaxed) {
                return request(http1).await;
            }
        }
        let client =
            &self.send_http[self.next.fetch_add(1, Ordering::Relaxed) % self.send_http.len()];
        match (request(client).await, &self.http1) {
            (Err(e), Some(http1)) if !e.is_timeout() => {
                let answered = request(http1).await;
                if answered.is_ok() && !self.use_http1.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        endpoint = %self.send_url,
                        "the FCM endpoint does not speak HTTP/2 in clear text; using HTTP/1.1"
                    );
                }
                answered.map_err(|_| e)
            }
            (outcome, _) => outcome,
        }
    }

    /// Sends one push, renewing the access token once if FCM refuses it.
    pub async fn send(&self, push: &Push) -> Outcome {
        let body = match serde_json::to_vec(&push.to_request(crate::db::now())) {
            Ok(body) => body,
            Err(e) => return Outcome::Failed(format!("the push could not be written: {e}")),
        };
        let mut refused: Option<String> = None;
        for _ in 0..2 {
            let token = match self.access_token(refused.as_deref()).await {
                Ok(t) => t,
                Err(outcome) => return outcome,
            };
            let response = match self.post(&token, &body).await {
                Ok(r) => r,
                Err(e) => {
                    return Outcome::Retry {
                        reason: format!("network: {e}"),
                        after: None,
                    }
                }
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            if status == 200 {
                return Outcome::Sent;
            }
            let text = read_capped(response, MAX_ERROR_BODY).await;
            if status == 401 && refused.is_none() {
                refused = Some(token);
                continue;
            }
            return classify(status, &text, retry_after);
        }
        Outcome::Retry {
            reason: "FCM refused two fresh access tokens".into(),
            after: None,
        }
    }
}

/// Google's error bodies are a few hundred bytes; whatever answers in their place (a
/// proxy's error page, a broken endpoint) is read no further than this.
const MAX_ERROR_BODY: usize = 16 * 1024;
const MAX_TOKEN_BODY: usize = 64 * 1024;
const MAX_TOKEN_LIFETIME_SECS: u64 = 3600;

/// The start of a response body, at most `limit` bytes, as text.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk[..chunk.len().min(limit - bytes.len())])
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Maps an FCM error answer to what to do, following Google's error-code table.
pub fn classify(status: u16, body: &str, retry_after: Option<Duration>) -> Outcome {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error = &parsed["error"];
    let fcm_code = error["details"]
        .as_array()
        .and_then(|details| details.iter().find_map(|d| d["errorCode"].as_str()))
        .unwrap_or("")
        .to_string();
    // Kept with the delivery for admins to read: short, whatever was sent.
    let message: String = error["message"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let fcm_code: String = fcm_code.chars().take(64).collect();
    let reason = if fcm_code.is_empty() {
        format!("{status} {message}")
    } else {
        format!("{status} {fcm_code}: {message}")
    };
    match (status, fcm_code.as_str()) {
        (404, _) | (_, "UNREGISTERED") => Outcome::InvalidToken(reason),
        (403, _) | (_, "SENDER_ID_MISMATCH") => Outcome::InvalidToken(reason),
        (400, _) if message.to_lowercase().contains("registration token") => {
            Outcome::InvalidToken(reason)
        }
        (429, _) | (500, _) | (502, _) | (503, _) | (504, _) => Outcome::Retry {
            reason,
            after: retry_after,
        },
        _ => Outcome::Failed(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_errors_are_classified_as_documented() {
        let unregistered = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert!(matches!(
            classify(404, unregistered, None),
            Outcome::InvalidToken(_)
        ));
        let bad_token = r#"{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}"#;
        assert!(matches!(
            classify(400, bad_token, None),
            Outcome::InvalidToken(_)
        ));
        let bad_data = r#"{"error":{"code":400,"message":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12","status":"INVALID_ARGUMENT"}}"#;
        assert!(matches!(classify(400, bad_data, None), Outcome::Failed(_)));
        let quota = r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}"#;
        assert_eq!(
            classify(429, quota, Some(Duration::from_secs(7))),
            Outcome::Retry {
                reason: "429 QUOTA_EXCEEDED: Quota exceeded".into(),
                after: Some(Duration::from_secs(7))
            }
        );
        assert!(matches!(classify(503, "", None), Outcome::Retry { .. }));
        assert!(matches!(
            classify(500, "not json", None),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(403, "{}", None),
            Outcome::InvalidToken(_)
        ));
    }

    #[test]
    fn a_push_carries_collapse_keys_and_a_ttl_that_ends_with_the_session() {
        let now =
            chrono::NaiveDateTime::parse_from_str("2026-12-15 01:00", "%Y-%m-%d %H:%M").unwrap();
        let push = Push {
            token: "t".into(),
            title: "เตือน".into(),
            body: "b".into(),
            data: BTreeMap::from([("kind".to_string(), "reminder".to_string())]),
            collapse_key: "reminder-e1-3600s".into(),
            expires_at: Some(now + chrono::Duration::hours(1)),
        };
        let request = serde_json::to_value(push.to_request(now)).unwrap();
        let message = &request["message"];
        assert_eq!(message["token"], "t");
        assert_eq!(message["android"]["ttl"], "3600s");
        assert_eq!(
            message["android"]["notification"]["tag"],
            "reminder-e1-3600s"
        );
        assert_eq!(
            message["apns"]["headers"]["apns-collapse-id"],
            "reminder-e1-3600s"
        );
        assert_eq!(message["data"]["kind"], "reminder");
    }
}
