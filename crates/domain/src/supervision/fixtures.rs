//! What the obligation and due-date tests share: the instants of January 2017 they judge at,
//! the 2016-Q4 due date, and that period scheduled with it.

use chrono::{DateTime, TimeZone, Utc};

use crate::report::Period;
use crate::supervision::ReportingPeriod;

/// 2017-01-`day`, `hour`:00 UTC.
pub(crate) fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, 1, day, hour, 0, 0).single().expect("valid")
}

/// 2017-01-16T00:00+08:00.
pub(crate) fn due() -> DateTime<Utc> {
    at(15, 16)
}

/// 2016-Q4, due at [`due`], scheduled once on January 1st.
pub(crate) fn period() -> ReportingPeriod {
    let p = Period::Quarter(2016, 4);
    ReportingPeriod {
        period: p,
        starts_at: p.starts_at(),
        ends_at: p.ends_at(),
        due_at: due(),
        created_at: at(1, 0),
        updated_at: at(1, 0),
        version: 1,
    }
}
