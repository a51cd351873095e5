//! LINE: linking a resident's LINE account (`POST /me/line/link`, `DELETE /me/line`) and
//! the official account's webhook (`POST /webhooks/line`): its `x-line-signature` is
//! checked on the raw body before anything is parsed; `follow`, `unfollow` (unlinks) and
//! text `message` events (a link code) are handled.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::Locale;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Code;
use crate::line::{self, client::LineClient};
use crate::models::rate_limits::{self, Admission};
use crate::models::users;

use super::views::rfc3339;
use super::with_db;

/// How long a link code waits to be sent in the chat.
const LINK_CODE_TTL_MINUTES: i64 = 10;
/// Codes one LINE account may try in an hour (guessing someone's code would route their
/// notices to a stranger).
const CODES_PER_HOUR: u32 = 5;

/// The connected official account, if any: its secret (for the webhook) and a client.
pub struct LineChannel {
    secret: Option<Vec<u8>>,
    client: Option<Arc<LineClient>>,
}

impl LineChannel {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        Ok(match &settings.line {
            Some(line) => LineChannel {
                secret: Some(line.channel_secret.expose().to_vec()),
                client: Some(Arc::new(LineClient::new(line)?)),
            },
            None => LineChannel {
                secret: None,
                client: None,
            },
        })
    }
}

fn link_code_hash(settings: &Settings) -> impl Fn(&str) -> String + '_ {
    move |code| settings.keyed_hash("line_link", code)
}

/// `POST /me/line/link`: a code to send to the official account in LINE.
pub async fn link_line(
    user: AuthUser,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
) -> ApiResult<HttpResponse> {
    let hash_settings = settings.clone();
    let (code, expires_at) = with_db(&pool, move |conn| {
        line::new_link_code(
            conn,
            &user.id,
            chrono::Duration::minutes(LINK_CODE_TTL_MINUTES),
            link_code_hash(&hash_settings),
        )
    })
    .await?;
    let add_friend_url = settings
        .line
        .as_ref()
        .and_then(|l| l.add_friend_url.clone());
    Ok(HttpResponse::Ok().json(json!({
        "code": code,
        "expires_at": rfc3339(expires_at),
        "add_friend_url": add_friend_url,
    })))
}

/// `DELETE /me/line`: unlinks (whether or not a LINE account was linked).
pub async fn unlink_line(user: AuthUser, pool: web::Data<DbPool>) -> ApiResult<HttpResponse> {
    with_db(&pool, move |conn| Ok(line::unlink_user(conn, &user.id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whether `signature` (base64) is the HMAC-SHA256 of `body` under `secret`.
pub fn signature_is_valid(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn bilingual(th: &str, en: &str) -> String {
    format!("{th}\n{en}")
}

/// `POST /webhooks/line`
pub async fn line_webhook(
    req: HttpRequest,
    body: web::Bytes,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    channel: web::Data<LineChannel>,
) -> ApiResult<HttpResponse> {
    let signature = req
        .headers()
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    let valid = match (&channel.secret, signature) {
        (Some(secret), Some(signature)) => signature_is_valid(secret, &body, signature),
        _ => false,
    };
    if !valid {
        return Err(ApiError::Unauthorized(Code::InvalidSignature));
    }
    let payload: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::BadRequest(Code::MalformedJson))?;
    let events = payload["events"].as_array().cloned().unwrap_or_default();
    let mut replies: Vec<(String, String)> = Vec::new();
    for event in events {
        let Some(line_user) = event["source"]["userId"].as_str().map(str::to_string) else {
            continue;
        };
        let reply_token = event["replyToken"].as_str().map(str::to_string);
        match event["type"].as_str() {
            Some("unfollow") => {
                with_db(&pool, move |conn| {
                    Ok(line::unlink_line_user(conn, &line_user)?)
                })
                .await?;
            }
            Some("follow") => {
                if let Some(token) = reply_token {
                    replies.push((
                        token,
                        bilingual(
                            "สวัสดีค่ะ ส่งรหัส 6 หลักจากแอป OCOD มาที่แชทนี้ เพื่อรับการแจ้งเตือนทาง LINE",
                            "Hello! Send the 6-digit code from the OCOD app here to get your notices on LINE.",
                        ),
                    ));
                }
            }
            Some("message") if event["message"]["type"] == "text" => {
                let text: String = event["message"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if text.len() != 6 || !text.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                let hash = settings.keyed_hash("line_link", &text);
                let limit_key = settings.keyed_hash("line_user", &line_user);
                let linked = with_db(&pool, move |conn| {
                    // Every code tried counts, so a guesser is cut off before a right guess.
                    let admission = rate_limits::admit(
                        conn,
                        "line_code",
                        &limit_key,
                        CODES_PER_HOUR,
                        std::time::Duration::from_secs(3600),
                    )?;
                    if let Admission::Limited { .. } = admission {
                        return Ok(Err(()));
                    }
                    let linked = line::link_by_code(conn, &hash, &line_user)?;
                    let locale = match &linked {
                        Some(user) => users::find(conn, user)?.map(|u| u.locale),
                        None => None,
                    };
                    Ok(Ok((linked.is_some(), locale)))
                })
                .await?;
                let text = match linked {
                    Ok((true, Some(Locale::En))) => {
                        "Linked: OCOD will send your notices here when your phone has no app."
                            .to_string()
                    }
                    Ok((true, _)) => {
                        "เชื่อมบัญชีแล้ว OCOD จะส่งการแจ้งเตือนมาที่นี่เมื่อโทรศัพท์ของคุณไม่มีแอป".to_string()
                    }
                    Ok((false, _)) => bilingual(
                        "รหัสไม่ถูกต้องหรือหมดอายุแล้ว กรุณาขอรหัสใหม่ในแอป OCOD",
                        "That code is wrong or has expired; get a new one in the OCOD app.",
                    ),
                    // Too many codes tried: stay silent rather than help a guesser.
                    Err(()) => continue,
                };
                if let Some(token) = reply_token {
                    replies.push((token, text));
                }
            }
            _ => {}
        }
    }
    // Replies go after the answer: LINE wants the webhook answered at once.
    if let (Some(client), false) = (channel.client.clone(), replies.is_empty()) {
        tokio::spawn(async move {
            for (token, text) in replies {
                if let Err(e) = client.reply(&token, &text).await {
                    tracing::warn!(error = %e, "line: reply failed");
                }
            }
        });
    }
    Ok(HttpResponse::Ok().json(json!({})))
}
