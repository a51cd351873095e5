//! Text messages: the durable outbox, our Twilio client, and a stand-in that speaks
//! Twilio's protocol for tests and app developers. Requests only queue texts; the worker
//! sends them (`send_due`).

pub mod fake;
pub mod outbox;
pub mod twilio;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::config::SmsProvider;
use crate::db::DbPool;
use crate::http::metrics::Metrics;

use outbox::{ClaimedSms, SmsOutcome};
use twilio::TwilioClient;

/// Texts claimed per round, and sent at once at most.
const BATCH: i64 = 100;
const IN_FLIGHT: usize = 20;

/// Where texts go.
pub enum SmsSender {
    /// Written to the log only (`OCOD_SMS_PROVIDER=log`).
    Log,
    Twilio(TwilioClient),
}

impl SmsSender {
    pub fn from_settings(provider: &SmsProvider) -> anyhow::Result<Self> {
        Ok(match provider {
            SmsProvider::Log => SmsSender::Log,
            SmsProvider::Twilio(settings) => {
                tracing::info!(endpoint = %settings.endpoint, "sms: sending through Twilio");
                SmsSender::Twilio(TwilioClient::new(settings)?)
            }
        })
    }

    /// Sends one text; `purpose` is for the log.
    pub async fn text(&self, to: &str, body: &str, purpose: &str) -> SmsOutcome {
        match self {
            SmsSender::Log => {
                tracing::info!(%to, %purpose, %body, "sms (log only, OCOD_SMS_PROVIDER=log)");
                SmsOutcome::Sent(None)
            }
            SmsSender::Twilio(client) => client.send(to, body).await,
        }
    }

    async fn send(&self, sms: &ClaimedSms) -> SmsOutcome {
        if sms.expires_at.is_some_and(|e| e <= crate::db::now()) {
            return SmsOutcome::Failed("expired before it could be sent".into());
        }
        self.text(&sms.to_phone, &sms.body, &sms.purpose).await
    }
}

/// One round: takes over texts whose worker died, claims due ones, sends them (a few at
/// once) and records the outcomes. Returns how many were claimed.
pub async fn send_due(
    pool: &DbPool,
    sender: &Arc<SmsSender>,
    lease: Duration,
    max_attempts: i32,
    metrics: Option<&Metrics>,
) -> anyhow::Result<usize> {
    let db = pool.clone();
    let claimed = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<ClaimedSms>> {
        let mut conn = db.get()?;
        let rescued = outbox::rescue_expired_leases(&mut conn)?;
        if rescued > 0 {
            tracing::warn!(
                rescued,
                "sms: took over texts whose worker stopped mid-send"
            );
        }
        Ok(outbox::claim(&mut conn, lease, BATCH)?)
    })
    .await??;
    let count = claimed.len();
    if count == 0 {
        return Ok(0);
    }
    let results: Vec<(ClaimedSms, SmsOutcome)> = futures_util::stream::iter(claimed)
        .map(|sms| {
            let sender = Arc::clone(sender);
            async move {
                let outcome = sender.send(&sms).await;
                (sms, outcome)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for (sms, outcome) in &results {
        let label = match outcome {
            SmsOutcome::Sent(_) => "sent",
            SmsOutcome::Retry { .. } => "retry",
            SmsOutcome::Failed(_) => "failed",
        };
        if let Some(counter) = metrics.and_then(|m| {
            m.texts
                .get_metric_with_label_values(&[&sms.purpose, label])
                .ok()
        }) {
            counter.inc();
        }
        match outcome {
            SmsOutcome::Sent(_) => {}
            SmsOutcome::Retry { reason, .. } => {
                tracing::warn!(sms = sms.id, attempt = sms.attempts, %reason, "sms: will retry")
            }
            SmsOutcome::Failed(reason) => {
                tracing::error!(sms = sms.id, %reason, "sms: failed for good")
            }
        }
    }
    let db = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = db.get()?;
        Ok(outbox::record(&mut conn, &results, max_attempts)?)
    })
    .await??;
    Ok(count)
}
