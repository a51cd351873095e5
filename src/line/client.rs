//! Our client of the LINE Messaging API: replies (`POST /v2/bot/message/reply`) and
//! pushes (`POST /v2/bot/message/push`, with an `X-Line-Retry-Key` fixed per delivery so
//! a retry is never delivered twice), with the channel access token as a bearer token.

use std::time::Duration;

use serde_json::json;

use crate::config::LineSettings;

const TIMEOUT: Duration = Duration::from_secs(10);

pub struct LineClient {
    http: reqwest::Client,
    endpoint: String,
    token: String,
}

/// What LINE said to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Delivered (or, 409 with our retry key, delivered before).
    Sent,
    Retry(String),
    /// The user blocked the account or cannot be reached (400/403): unlink them.
    Unreachable(String),
    Failed(String),
}

impl LineClient {
    pub fn new(settings: &LineSettings) -> anyhow::Result<Self> {
        Ok(LineClient {
            http: reqwest::Client::builder().timeout(TIMEOUT).build()?,
            endpoint: settings.endpoint.clone(),
            token: String::from_utf8_lossy(settings.channel_token.expose()).into_owned(),
        })
    }

    /// Answers a webhook event with one text (reply tokens last about a minute).
    pub async fn reply(&self, reply_token: &str, text: &str) -> anyhow::Result<()> {
        let res = self
            .http
            .post(format!("{}/v2/bot/message/reply", self.endpoint))
            .bearer_auth(&self.token)
            .json(&json!({ "replyToken": reply_token, "messages": [{ "type": "text", "text": text }] }))
            .send()
            .await?;
        if !res.status().is_success() {
            anyhow::bail!(
                "LINE reply: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Pushes one text to a LINE user; `retry_key` (a UUID) is the same for every attempt
    /// of one delivery.
    pub async fn push(&self, to: &str, text: &str, retry_key: &str) -> PushOutcome {
        let res = match self
            .http
            .post(format!("{}/v2/bot/message/push", self.endpoint))
            .bearer_auth(&self.token)
            .header("X-Line-Retry-Key", retry_key)
            .json(&json!({ "to": to, "messages": [{ "type": "text", "text": text }] }))
            .send()
            .await
        {
            Ok(res) => res,
            Err(e) => return PushOutcome::Retry(format!("network: {e}")),
        };
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        let reason = format!("{status} {}", body.chars().take(200).collect::<String>());
        match status {
            200..=299 | 409 => PushOutcome::Sent,
            429 | 500..=599 => PushOutcome::Retry(reason),
            400 | 403 => PushOutcome::Unreachable(reason),
            _ => PushOutcome::Failed(reason),
        }
    }
}
