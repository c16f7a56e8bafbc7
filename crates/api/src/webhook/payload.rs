//! The JSON body of a delivery: the Standard Webhooks envelope (`type`, `timestamp`, `data`)
//! around one change of the feed, in the feed's own terms. It is thin on purpose: it says what
//! changed and where the change stands in the feed (`data.cursor`, usable as `changes(after:)`),
//! who made it (`data.actor`, as the endpoint's token is shown it in `changes`), and the
//! receiver reads the report with its token if it needs more.

use std::collections::HashMap;

use serde_json::json;
use workplan_domain::access::Viewer;
use workplan_domain::actor::shown_to;
use workplan_domain::ports::PlanReader;
use workplan_domain::report::{Change, Reporter};

use crate::graphql::changes::position_cursor;
use crate::ids::{self, Kind};

/// The event type of a change: `report.` and its kind in lower case (`report.reviewed`).
pub(crate) fn event_type(change: &Change) -> String {
    format!("report.{}", change.kind.as_str().to_ascii_lowercase())
}

/// The body of the delivery of `change`, made by `actor` (as [`actors`] shows it).
pub(crate) fn payload(change: &Change, actor: &str) -> String {
    json!({
        "type": event_type(change),
        "timestamp": change.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "cursor": position_cursor(change.position),
            "kind": change.kind.as_str(),
            "reportId": ids::encode(Kind::ProgressReport, change.report_id.0).0,
            "version": change.version,
            "state": change.state.as_str(),
            "actor": actor,
            "at": change.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    })
    .to_string()
}

/// Who made each of `changes`, as `viewer` (the endpoint's token) is shown it in the `changes`
/// query: the reporters' names read from the plan at once.
pub(crate) async fn actors(
    plan: &dyn PlanReader,
    viewer: &Viewer,
    changes: &[Change],
) -> workplan_domain::Result<Vec<String>> {
    let shown: Vec<_> = changes.iter().map(|c| (shown_to(viewer, &c.actor), c.reporter)).collect();
    let (mut agencies, mut provinces) = (Vec::new(), Vec::new());
    for (_, reporter) in shown.iter().filter(|(s, _)| s.names_the_reporter()) {
        match *reporter {
            Reporter::Agency(id) => agencies.push(id),
            Reporter::Province(id) => provinces.push(id),
        }
    }
    agencies.sort_unstable();
    agencies.dedup();
    provinces.sort_unstable();
    provinces.dedup();
    let mut names: HashMap<Reporter, String> = HashMap::new();
    if !agencies.is_empty() {
        names.extend(plan.agencies_by_ids(&agencies).await?.into_iter().map(|a| (Reporter::Agency(a.id), a.name)));
    }
    if !provinces.is_empty() {
        names.extend(plan.provinces_by_ids(&provinces).await?.into_iter().map(|p| (Reporter::Province(p.id), p.name)));
    }
    Ok(shown.into_iter().map(|(s, r)| s.text(names.get(&r).map_or("unknown", String::as_str))).collect())
}
