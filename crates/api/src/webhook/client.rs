//! The HTTP client deliveries go out through: rustls (with the ring provider), no proxy, no
//! redirects, a timeout per attempt, and a resolver that refuses private addresses.
//!
//! The guard sits in the resolver (`GuardedResolver`): the addresses a host name resolves
//! to are checked and then handed to the connector as they are, so the client connects to
//! exactly the addresses it checked — a DNS answer that changes between a check and the
//! connection (DNS rebinding) cannot slip a private address in. A URL whose host is an IP
//! address never reaches a resolver; [`checked_addresses`] checks it before the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};
use workplan_domain::webhook::{AddressRule, AttemptOutcome};
use workplan_domain::{Error, Result};

use super::WebhookSettings;

/// Resolves host names and refuses them when an address is not allowed.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver(AddressRule);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rule = self.0;
        Box::pin(async move {
            let addrs = resolve_host(name.as_str(), 0).await?;
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            rule.check(&ips).map_err(|why| std::io::Error::new(std::io::ErrorKind::PermissionDenied, why))?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

async fn resolve_host(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

/// The addresses `url`'s host stands for, each allowed by `rule`: resolved for a name, the
/// address itself for an IP literal.
///
/// # Errors
/// A message saying why the URL's host is refused (or cannot be resolved).
pub async fn checked_addresses(url: &Url, rule: AddressRule) -> std::result::Result<Vec<IpAddr>, String> {
    let ips = match url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(name)) => resolve_host(name, 0)
            .await
            .map_err(|e| format!("the host {name} cannot be resolved ({e})"))?
            .into_iter()
            .map(|a| a.ip())
            .collect(),
        None => return Err("the URL has no host".to_owned()),
    };
    rule.check(&ips)?;
    Ok(ips)
}

/// Sends signed deliveries.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    rule: AddressRule,
}

/// One request to send.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// Where.
    pub url: &'a str,
    /// `webhook-id`.
    pub id: &'a str,
    /// `webhook-timestamp` (unix seconds).
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: &'a str,
    /// The JSON body.
    pub body: &'a str,
}

/// Installs rustls's ring provider as the process's default, once (later calls do nothing).
/// reqwest is built without a provider of its own (see Cargo.toml), and feature unification
/// gives every reqwest client in the process — the OTLP exporter's, tests' — the same TLS
/// backend, so a process installs this before it builds any reqwest client.
pub fn install_crypto_provider() {
    // Refused harmlessly when a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Sender {
    /// A sender with `settings`' address rule and timeout.
    ///
    /// # Errors
    /// INTERNAL when the TLS client cannot be built (no usable certificate store).
    pub fn new(settings: &WebhookSettings) -> Result<Self> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(settings.addresses)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("workplan-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::internal)?;
        Ok(Self { client, rule: settings.addresses })
    }

    /// POSTs one delivery: 2xx is accepted, anything else (or no answer) refused with a
    /// reason for `lastError`.
    pub async fn send(&self, request: Signed<'_>) -> AttemptOutcome {
        let url = match Url::parse(request.url) {
            Ok(url) => url,
            Err(e) => return AttemptOutcome::Refused { status: None, error: format!("not a URL ({e})") },
        };
        // A host name is checked by the resolver as it connects; an IP literal here.
        if !matches!(url.host(), Some(Host::Domain(_)))
            && let Err(why) = checked_addresses(&url, self.rule).await
        {
            return AttemptOutcome::Refused { status: None, error: why };
        }
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", request.signature)
            .body(request.body.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                AttemptOutcome::Accepted { status: response.status().as_u16() }
            }
            Ok(response) => {
                let status = response.status();
                AttemptOutcome::Refused { status: Some(status.as_u16()), error: format!("HTTP {status}") }
            }
            Err(e) => AttemptOutcome::Refused { status: None, error: describe(&e) },
        }
    }
}

/// A send error with its causes ("error sending request …: … : the host resolves to …").
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { "timed out".to_owned() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
