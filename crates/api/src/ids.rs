//! Opaque global IDs (`Node.id`) and pagination cursors. Both are base64 so clients treat them
//! as opaque; both are checked on the way in.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::bad_input;

/// The kinds of node a global ID can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plan,
    Section,
    Subsection,
    Task,
    Agency,
    Province,
    ProgressReport,
    ApiToken,
    ObligationAdjustment,
    WebhookEndpoint,
    WebhookDelivery,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Plan => "Plan",
            Self::Section => "Section",
            Self::Subsection => "Subsection",
            Self::Task => "Task",
            Self::Agency => "Agency",
            Self::Province => "Province",
            Self::ProgressReport => "ProgressReport",
            Self::ApiToken => "ApiToken",
            Self::ObligationAdjustment => "ObligationAdjustment",
            Self::WebhookEndpoint => "WebhookEndpoint",
            Self::WebhookDelivery => "WebhookDelivery",
        }
    }

    const ALL: [Self; 11] = [
        Self::Plan,
        Self::Section,
        Self::Subsection,
        Self::Task,
        Self::Agency,
        Self::Province,
        Self::ProgressReport,
        Self::ApiToken,
        Self::ObligationAdjustment,
        Self::WebhookEndpoint,
        Self::WebhookDelivery,
    ];
}

/// Encodes a global ID.
pub(crate) fn encode(kind: Kind, id: i64) -> async_graphql::ID {
    async_graphql::ID(STANDARD.encode(format!("{}:{id}", kind.name())))
}

/// Decodes any global ID into its kind and database id, or `None` if it is not one of ours.
pub(crate) fn decode_any(id: &str) -> Option<(Kind, i64)> {
    if id.len() > 100 {
        return None;
    }
    let bytes = STANDARD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (kind, n) = text.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.name() == kind)?;
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    Some((kind, n))
}

/// Decodes a global ID that must be of `kind`; `field` names the argument in errors.
pub(crate) fn decode(kind: Kind, id: &str, field: &str) -> async_graphql::Result<i64> {
    match decode_any(id) {
        Some((k, n)) if k == kind => Ok(n),
        Some((k, _)) => Err(bad_input(field, format!("expected a {} ID, got a {} ID", kind.name(), k.name()))),
        None => Err(bad_input(field, "not a valid ID")),
    }
}

/// Encodes a cursor over `key` for a list of `kind`.
pub(crate) fn cursor(list: &str, key: &str) -> String {
    STANDARD.encode(format!("{list}|{key}"))
}

/// Decodes a cursor made by [`cursor`] for the same list; `field` names the argument.
pub(crate) fn parse_cursor<K: std::str::FromStr>(
    list: &str,
    cursor: Option<String>,
    field: &str,
) -> async_graphql::Result<Option<K>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad = || bad_input(field, "not a cursor of this list");
    if cursor.len() > 1024 {
        return Err(bad());
    }
    let bytes = STANDARD.decode(cursor.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (prefix, key) = text.split_once('|').ok_or_else(bad)?;
    if prefix != list {
        return Err(bad());
    }
    key.parse().map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = encode(Kind::Task, 42);
        assert_eq!(decode_any(&id), Some((Kind::Task, 42)));
        assert!(decode(Kind::Agency, &id, "id").is_err());
        for bad in ["", "!!!", "VGFzazo=", "VGFzazotMQ==", "Rm9vOjE="] {
            assert_eq!(decode_any(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_are_scoped() {
        let c = cursor("task", "17");
        assert_eq!(parse_cursor::<i32>("task", Some(c.clone()), "after").expect("ok"), Some(17));
        assert!(parse_cursor::<i32>("report", Some(c), "after").is_err());
        assert!(parse_cursor::<i32>("task", Some("zzz".into()), "after").is_err());
    }
}
