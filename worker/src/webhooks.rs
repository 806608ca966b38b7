//! Sending a webhook: the URL is checked again, every address its host
//! resolves to is checked before connecting (by the client's own resolver,
//! so a name cannot turn inward between the check and the connection),
//! redirects are never followed, and each attempt has a time limit. The
//! request is signed as Standard Webhooks has it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use onegrid_domain::netguard::{self, Allowed};
use onegrid_domain::webhooks as rules;
use onegrid_store::integrations::webhooks::AttemptResult;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves names and refuses any answer that points inward.
#[derive(Debug, Clone)]
struct GuardedResolver {
    allowed: Allowed,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), 0, &allowed).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Every address of `host`, or an error if any of them is refused.
async fn resolve_checked(
    host: &str,
    port: u16,
    allowed: &Allowed,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address").into());
    }
    for a in &addrs {
        netguard::check_address(a.ip(), allowed)?;
    }
    Ok(addrs)
}

/// Sends signed webhook requests.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allowed: Allowed,
}

/// How much of a receiver's answer is kept for the log.
const RESPONSE_KEPT: usize = 1000;

impl Sender {
    pub fn new(allowed: Allowed, timeout: Duration) -> Result<Sender, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .dns_resolver(Arc::new(GuardedResolver {
                allowed: allowed.clone(),
            }))
            .user_agent(concat!("OneGrid-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Sender { client, allowed })
    }

    /// One attempt: POST `body` to `url` signed with `secrets` as message `msg_id`.
    pub async fn send(
        &self,
        url: &str,
        msg_id: &str,
        secrets: &[String],
        body: Vec<u8>,
        now: DateTime<Utc>,
    ) -> AttemptResult {
        let started = Instant::now();
        let refused = |error: String| AttemptResult {
            status: None,
            duration_ms: 0,
            error: Some(error),
            response: None,
            retry_after: None,
            permanent: true,
        };
        // Checked again at send time: the deployment's rules may have changed.
        let target = match netguard::check_url(url, &self.allowed) {
            Ok(t) => t,
            Err(e) => return refused(format!("refused: {e}")),
        };
        if target.ip.is_none()
            && let Err(e) = resolve_checked(&target.host, target.port, &self.allowed).await
        {
            return refused(format!("refused: {e}"));
        }
        let timestamp = now.timestamp();
        let live: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let signature = match rules::signature_header(&live, msg_id, timestamp, &body) {
            Ok(s) => s,
            Err(e) => return refused(e.to_string()),
        };
        let sent = self
            .client
            .post(target.url)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let elapsed =
            |started: Instant| i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        match sent {
            Err(e) => AttemptResult {
                status: None,
                duration_ms: elapsed(started),
                error: Some(describe(&e)),
                response: None,
                retry_after: None,
                permanent: false,
            },
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| rules::parse_retry_after(v, now));
                let mut kept = Vec::new();
                while kept.len() < RESPONSE_KEPT {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                kept.truncate(RESPONSE_KEPT);
                let response = String::from_utf8_lossy(&kept).into_owned();
                let failed = !(200..300).contains(&status);
                AttemptResult {
                    status: Some(status),
                    duration_ms: elapsed(started),
                    error: failed.then(|| {
                        if (300..400).contains(&status) {
                            format!("HTTP {status}: redirects are not followed")
                        } else {
                            format!("HTTP {status}")
                        }
                    }),
                    response: (!response.is_empty()).then_some(response),
                    retry_after,
                    permanent: false,
                }
            }
        }
    }
}

/// A transport error with its cause (a refused address names the rule).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
