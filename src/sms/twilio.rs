//! Our client of Twilio Programmable Messaging: `POST
//! {endpoint}/2010-04-01/Accounts/{AccountSid}/Messages.json` with the form fields `To`,
//! `From` (or `MessagingServiceSid` for a sender `MG…`) and `Body`, HTTP basic auth with
//! the account SID and auth token. Twilio answers 201 with the message's `sid`, or its
//! error JSON `{code, message, more_info, status}`; 429 and 5xx are worth retrying.

use std::time::Duration;

use serde::Deserialize;

use crate::config::TwilioSettings;

use super::outbox::SmsOutcome;

/// How long one send may take before it counts as a network failure (and is retried).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TwilioClient {
    http: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
}

/// Twilio's error body.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioClient {
    pub fn new(settings: &TwilioSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("ocod/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(TwilioClient {
            http,
            url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.endpoint, settings.account_sid
            ),
            account_sid: settings.account_sid.clone(),
            auth_token: String::from_utf8_lossy(settings.auth_token.expose()).into_owned(),
            from: settings.from.clone(),
        })
    }

    /// Sends one text; never panics, and says whether to retry.
    pub async fn send(&self, to: &str, body: &str) -> SmsOutcome {
        let sender = if self.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let form = [("To", to), (sender, self.from.as_str()), ("Body", body)];
        let res = match self
            .http
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
        {
            Ok(res) => res,
            Err(e) => {
                return SmsOutcome::Retry {
                    reason: format!("network: {e}"),
                    after: None,
                }
            }
        };
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = res.text().await.unwrap_or_default();
        if status.is_success() {
            let sid = serde_json::from_str::<Created>(&text)
                .ok()
                .and_then(|c| c.sid);
            return SmsOutcome::Sent(sid);
        }
        let reason = match serde_json::from_str::<TwilioError>(&text) {
            Ok(TwilioError {
                code: Some(code),
                message,
            }) => format!(
                "{} {code}: {}",
                status.as_u16(),
                message.unwrap_or_default()
            ),
            _ => format!(
                "{} {}",
                status.as_u16(),
                text.chars().take(200).collect::<String>()
            ),
        };
        if status.as_u16() == 429 || status.is_server_error() {
            SmsOutcome::Retry {
                reason,
                after: retry_after,
            }
        } else {
            SmsOutcome::Failed(reason)
        }
    }
}
