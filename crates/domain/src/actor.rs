//! Who wrote: the actor recorded with every write (history, change feed, the reporting
//! calendar, adjustments), and what each viewer is shown of it.
//!
//! The record keeps the token's name and role (`"ops-bot (ADMIN)"`). A token's name is an
//! internal label — often a person's or a system's — so only those who oversee the tokens'
//! work (ADMIN and SUPERVISOR) read it. Everyone else (anonymous callers, READER and reporter
//! tokens) is shown the role instead, or, for a reporter's own write, the reporter: a reporter
//! token only ever writes its own reporter's reports.

use crate::access::{Principal, Viewer};
use crate::token::AccessRole;

/// The actor a principal's writes are recorded as: its name and role.
pub fn recorded(principal: &Principal) -> String {
    format!("{} ({})", principal.name, principal.role.as_str())
}

/// What a viewer is shown of a recorded actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShownActor {
    /// The record as it is: token name and role.
    AsRecorded(String),
    /// Only the role of the token that wrote (ADMIN, SUPERVISOR, READER).
    Role(AccessRole),
    /// A reporter token wrote: show the reporter the write was for, with this role.
    Reporter(AccessRole),
    /// The record names no role this service knows: show nothing of it.
    Hidden,
}

impl ShownActor {
    /// Whether its text names the reporter (give [`ShownActor::text`] the reporter's name).
    pub fn names_the_reporter(&self) -> bool {
        matches!(self, Self::Reporter(_))
    }

    /// The text shown: the record, the role (`SUPERVISOR`), the reporter and the role
    /// (`Guangdong (PROVINCE_REPORTER)`, from `reporter_name`), or `unknown`.
    pub fn text(self, reporter_name: &str) -> String {
        match self {
            Self::AsRecorded(actor) => actor,
            Self::Role(role) => role.as_str().to_owned(),
            Self::Reporter(role) => format!("{reporter_name} ({})", role.as_str()),
            Self::Hidden => "unknown".to_owned(),
        }
    }
}

/// The role a recorded actor ends in (`"name (ROLE)"`); `None` when it ends in none. The name
/// may itself hold parentheses: only the last pair counts, as [`recorded`] appends it last.
pub fn recorded_role(recorded: &str) -> Option<AccessRole> {
    let inner = recorded.strip_suffix(')')?;
    let (_, role) = inner.rsplit_once(" (")?;
    AccessRole::parse(role)
}

/// What `viewer` is shown of the actor `recorded`: ADMIN and SUPERVISOR tokens the record, the
/// others the role or the reporter.
pub fn shown_to(viewer: &Viewer, recorded: &str) -> ShownActor {
    if viewer.sees_token_names() {
        return ShownActor::AsRecorded(recorded.to_owned());
    }
    match recorded_role(recorded) {
        Some(role @ (AccessRole::AgencyReporter | AccessRole::ProvinceReporter)) => ShownActor::Reporter(role),
        Some(role) => ShownActor::Role(role),
        None => ShownActor::Hidden,
    }
}

impl Viewer {
    /// Whether the viewer reads token names where writes are recorded (ADMIN and SUPERVISOR).
    pub fn sees_token_names(&self) -> bool {
        matches!(self, Self::Token(p) if matches!(p.role, AccessRole::Admin | AccessRole::Supervisor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AgencyId, TokenId};

    fn token(role: AccessRole) -> Viewer {
        Viewer::Token(Principal {
            token: TokenId(1),
            name: "viewer".into(),
            role,
            agency: (role == AccessRole::AgencyReporter).then_some(AgencyId(7)),
            province: None,
        })
    }

    #[test]
    fn a_write_is_recorded_with_name_and_role() {
        let Viewer::Token(p) = token(AccessRole::Supervisor) else { unreachable!() };
        assert_eq!(recorded(&p), "viewer (SUPERVISOR)");
        assert_eq!(recorded_role("viewer (SUPERVISOR)"), Some(AccessRole::Supervisor));
        assert_eq!(recorded_role("bot (ADMIN) (READER)"), Some(AccessRole::Reader), "the last pair counts");
        assert_eq!(recorded_role("system (seed --demo) (ADMIN)"), Some(AccessRole::Admin));
        for none in ["", "plain name", "x (NOBODY)", "x (ADMIN", "(ADMIN)"] {
            assert_eq!(recorded_role(none), None, "{none:?}");
        }
    }

    #[test]
    fn only_admins_and_supervisors_read_token_names() {
        let record = "Zhang Wei's laptop (SUPERVISOR)";
        for role in [AccessRole::Admin, AccessRole::Supervisor] {
            assert_eq!(shown_to(&token(role), record), ShownActor::AsRecorded(record.into()), "{role:?}");
        }
        let others = [
            Viewer::Anonymous,
            token(AccessRole::Reader),
            token(AccessRole::AgencyReporter),
            token(AccessRole::ProvinceReporter),
        ];
        for viewer in &others {
            assert_eq!(shown_to(viewer, record), ShownActor::Role(AccessRole::Supervisor), "{viewer:?}");
            assert_eq!(
                shown_to(viewer, "guangdong-sync (PROVINCE_REPORTER)"),
                ShownActor::Reporter(AccessRole::ProvinceReporter),
                "{viewer:?}"
            );
            assert_eq!(shown_to(viewer, "no role recorded"), ShownActor::Hidden, "{viewer:?}");
        }
    }

    #[test]
    fn the_text_shown_names_the_reporter_only_where_the_reporter_stands_for_the_token() {
        let shown = |s: ShownActor| (s.names_the_reporter(), s.text("Guangdong"));
        assert_eq!(shown(ShownActor::AsRecorded("bot (ADMIN)".into())), (false, "bot (ADMIN)".into()));
        assert_eq!(shown(ShownActor::Role(AccessRole::Supervisor)), (false, "SUPERVISOR".into()));
        assert_eq!(
            shown(ShownActor::Reporter(AccessRole::ProvinceReporter)),
            (true, "Guangdong (PROVINCE_REPORTER)".into())
        );
        assert_eq!(shown(ShownActor::Hidden), (false, "unknown".into()));
    }
}
