//! Standard Webhooks signing: secrets are `whsec_` and a base64 key; a delivery's
//! `webhook-signature` is `v1,` and the base64 HMAC-SHA256, under the decoded key, of
//! `{webhook-id}.{webhook-timestamp}.{body}`. While a rotated-out secret still signs, the
//! header holds one signature per secret, separated by spaces, as the specification allows.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use workplan_domain::webhook::SECRET_PREFIX;
use workplan_domain::{Error, Result};

/// Bytes of a signing key (Standard Webhooks asks for 24 to 64).
const KEY_BYTES: usize = 32;

/// A fresh signing secret: `whsec_` and 32 random bytes in base64.
///
/// # Errors
/// INTERNAL when the system has no random source.
pub fn new_secret() -> Result<String> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The `webhook-signature` header of a delivery: `v1,<base64 HMAC-SHA256>`.
///
/// # Errors
/// INTERNAL when `secret` is not a `whsec_` base64 key (stored secrets always are).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|k| STANDARD.decode(k).ok())
        .ok_or_else(|| Error::internal(std::io::Error::other("a webhook secret is not a whsec_ base64 key")))?;
    let mut mac =
        <Hmac<Sha256>>::new_from_slice(&key).map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header of a delivery signed with each of `secrets`: their
/// signatures ([`sign`]), separated by spaces.
///
/// # Errors
/// As [`sign`].
pub fn sign_with_each(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Result<String> {
    let signatures = secrets.iter().map(|secret| sign(secret, id, timestamp, body)).collect::<Result<Vec<_>>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example_does() {
        // The example of the Standard Webhooks reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).expect("a signature");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn with_two_secrets_the_header_holds_both_signatures() {
        let (old, new) = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", new_secret().expect("a secret"));
        let both = sign_with_each(&[&new, old], "msg_1", 7, "{}").expect("signatures");
        let one = |secret: &str| sign(secret, "msg_1", 7, "{}").expect("a signature");
        assert_eq!(both, format!("{} {}", one(&new), one(old)));
        assert_eq!(sign_with_each(&[old], "msg_1", 7, "{}").expect("one"), one(old));
    }

    #[test]
    fn secrets_are_prefixed_base64_keys_and_differ() {
        let a = new_secret().expect("a secret");
        let b = new_secret().expect("a secret");
        assert_ne!(a, b);
        let key = STANDARD.decode(a.strip_prefix(SECRET_PREFIX).expect("prefix")).expect("base64");
        assert_eq!(key.len(), KEY_BYTES);
        assert!(sign("not-a-secret", "msg", 1, "{}").is_err());
    }
}
