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

/// The `X-Line-Retry-Key` of a delivery: a UUID (version 4 layout) derived from the
/// notification and the LINE user, so every attempt of one delivery, by any worker, after
/// any crash, carries the same key and LINE delivers it at most once.
pub fn retry_key(notification_id: &str, line_user: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(notification_id.as_bytes())
        .chain_update([0])
        .chain_update(line_user.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_keeps_its_retry_key_and_others_differ() {
        let key = retry_key("n-1", "U1");
        assert_eq!(key, retry_key("n-1", "U1"));
        assert_ne!(key, retry_key("n-1", "U2"));
        assert_ne!(key, retry_key("n-2", "U1"));
        let parsed = uuid::Uuid::parse_str(&key).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }
}
