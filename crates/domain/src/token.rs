//! API tokens: what a token may do, how it is stored, and the rules on its binding.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::ids::{AgencyId, ProvinceId, TokenId, string_enum};
use crate::{Error, Result};

/// The prefix of every API token secret, so leaked secrets are easy to find and revoke.
pub const SECRET_PREFIX: &str = "wpt_";

/// The stored form of a token secret: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

string_enum!(
    /// What a token may do.
    pub enum AccessRole {
        /// Everything, including token management.
        Admin = "ADMIN",
        /// Reviews reports; reads everything.
        Supervisor = "SUPERVISOR",
        /// Reports for one agency, on the tasks it is responsible for.
        AgencyReporter = "AGENCY_REPORTER",
        /// Reports for one province, on any task.
        ProvinceReporter = "PROVINCE_REPORTER",
        /// Reads.
        Reader = "READER",
    }
);

/// An API token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its key.
    pub id: TokenId,
    /// Its unique name, shown as the actor in history.
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// For AGENCY_REPORTER.
    pub agency: Option<AgencyId>,
    /// For PROVINCE_REPORTER.
    pub province: Option<ProvinceId>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token to create: its binding must match its role.
pub fn check_token_binding(role: AccessRole, agency: Option<AgencyId>, province: Option<ProvinceId>) -> Result<()> {
    match (role, agency, province) {
        (AccessRole::AgencyReporter, Some(_), None) | (AccessRole::ProvinceReporter, None, Some(_)) => Ok(()),
        (AccessRole::AgencyReporter, _, _) => {
            Err(Error::validation("agency", "an AGENCY_REPORTER token is bound to exactly one agency"))
        }
        (AccessRole::ProvinceReporter, _, _) => {
            Err(Error::validation("province", "a PROVINCE_REPORTER token is bound to exactly one province"))
        }
        (_, None, None) => Ok(()),
        _ => Err(Error::validation("role", "only reporter tokens are bound to an agency or province")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_hex() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn token_bindings() {
        assert!(check_token_binding(AccessRole::AgencyReporter, Some(AgencyId(1)), None).is_ok());
        assert!(check_token_binding(AccessRole::AgencyReporter, None, None).is_err());
        assert!(check_token_binding(AccessRole::ProvinceReporter, Some(AgencyId(1)), Some(ProvinceId(1))).is_err());
        assert!(check_token_binding(AccessRole::Reader, Some(AgencyId(1)), None).is_err());
        assert!(check_token_binding(AccessRole::Admin, None, None).is_ok());
    }

    #[test]
    fn role_spellings() {
        assert_eq!(AccessRole::ALL.len(), 5);
        assert_eq!(AccessRole::parse("PROVINCE_REPORTER"), Some(AccessRole::ProvinceReporter));
        assert_eq!(AccessRole::AgencyReporter.as_str(), "AGENCY_REPORTER");
    }
}
