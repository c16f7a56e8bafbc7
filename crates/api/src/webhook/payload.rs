//! The JSON body of a delivery: the Standard Webhooks envelope (`type`, `timestamp`, `data`)
//! around one change of the feed, in the feed's own terms. It is thin on purpose: it says what
//! changed and where the change stands in the feed (`data.cursor`, usable as `changes(after:)`),
//! and the receiver reads the report with its token if it needs more.

use serde_json::json;
use workplan_domain::report::Change;

use crate::graphql::changes::position_cursor;
use crate::ids::{self, Kind};

/// The event type of a change: `report.` and its kind in lower case (`report.reviewed`).
pub(crate) fn event_type(change: &Change) -> String {
    format!("report.{}", change.kind.as_str().to_ascii_lowercase())
}

/// The body of the delivery of `change`.
pub(crate) fn payload(change: &Change) -> String {
    json!({
        "type": event_type(change),
        "timestamp": change.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "cursor": position_cursor(change.position),
            "kind": change.kind.as_str(),
            "reportId": ids::encode(Kind::ProgressReport, change.report_id.0).0,
            "version": change.version,
            "state": change.state.as_str(),
            "at": change.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    })
    .to_string()
}
