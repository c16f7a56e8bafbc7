//! workplan-domain: the model of a work plan, its rules, the plan importer and the
//! repository ports.
//!
//! This crate owns *what* workplan means and never *how* it is stored or served: it depends on
//! no IO crate (no sea-orm, sqlx, axum, async-graphql or tokio). Persistence implements the
//! [`ports`]; the API talks to them through the [`usecases`] and the ports.
//!
//! One concept per module: [`plan`], [`agency`], [`province`], [`report`] (with its period,
//! submit, edit, sync and history rules), [`access`] (who may do what), [`token`], [`listing`]
//! (pages and filters), [`ports`], [`usecases`], [`import`] and [`demo`].

#![warn(missing_docs)]

pub mod access;
pub mod agency;
pub mod demo;
pub mod error;
pub mod ids;
pub mod import;
pub mod listing;
pub mod plan;
pub mod ports;
pub mod province;
pub mod report;
pub mod token;
pub mod usecases;

pub use error::{Error, Result};

// compat shim: removed after the restructure merges
#[doc(hidden)]
pub mod model {
    pub use crate::agency::Agency;
    pub use crate::ids::{AgencyId, ChangeId, PlanId, ProvinceId, ReportId, SectionId, SubsectionId, TaskId, TokenId};
    pub use crate::plan::{DocumentInfo, Plan, Responsibility, ResponsibilityMode, Role, Section, Subsection, Task};
    pub use crate::province::{Province, ProvinceKind};
    pub use crate::report::{
        Change, ChangeKind, FieldChange, HistoryEntry, ProgressReport, ReportState, ReportStatus, Reporter,
    };
    pub use crate::token::{AccessRole, ApiToken};
}

// compat shim: removed after the restructure merges
#[doc(hidden)]
pub mod page {
    pub use crate::access::ReportScope;
    pub use crate::listing::*;
}

// compat shim: removed after the restructure merges
#[doc(hidden)]
pub mod auth {
    pub use crate::access::*;
    pub use crate::token::{SECRET_PREFIX, check_token_binding, hash_secret};
}

// compat shim: removed after the restructure merges
#[doc(hidden)]
pub mod sync {
    pub use crate::report::sync::*;
}

// compat shim: removed after the restructure merges
#[doc(hidden)]
pub mod importer {
    pub use crate::import::importer::*;
}

// compat shim: removed after the restructure merges
#[doc(hidden)]
pub mod seed {
    pub use crate::import::seed::*;
}

// compat shim: removed after the restructure merges
/// The use cases with their old signatures (one `&dyn Store` for every port).
#[doc(hidden)]
pub mod service {
    use chrono::{DateTime, Utc};

    use crate::Result;
    use crate::access::Viewer;
    use crate::ids::AgencyId;
    use crate::ports::{Store, SyncItemResult};
    use crate::report::{ProgressReport, ReporterRef, SubmitReport};
    use crate::token::AccessRole;
    pub use crate::usecases::{IssuedToken, MAX_IDEMPOTENCY_KEY, SyncItemInput, TokenRequest, authenticate};

    /// [`crate::usecases::edit_report`] on the system clock.
    pub async fn edit_report(
        store: &dyn crate::ports::ReportWriter,
        viewer: &Viewer,
        id: crate::ids::ReportId,
        expected_version: i32,
        edit: crate::report::Edit,
        idempotency_key: Option<String>,
    ) -> Result<ProgressReport> {
        let clock = crate::ports::SystemClock;
        crate::usecases::edit_report(store, &clock, viewer, id, expected_version, edit, idempotency_key).await
    }

    /// [`crate::usecases::submit_report`] over one store, on the system clock.
    pub async fn submit_report(
        store: &dyn Store,
        viewer: &Viewer,
        input: SubmitReport,
        requested: Option<ReporterRef>,
        as_draft: bool,
        idempotency_key: Option<String>,
    ) -> Result<ProgressReport> {
        crate::usecases::submit_report(
            store,
            store,
            &crate::ports::SystemClock,
            viewer,
            input,
            requested,
            as_draft,
            idempotency_key,
        )
        .await
    }

    /// [`crate::usecases::sync_reports`] over one store, on the system clock.
    pub async fn sync_reports(
        store: &dyn Store,
        viewer: &Viewer,
        items: Vec<SyncItemInput>,
        requested: Option<ReporterRef>,
        dry_run: bool,
    ) -> Result<Vec<SyncItemResult>> {
        crate::usecases::sync_reports(store, store, &crate::ports::SystemClock, viewer, items, requested, dry_run).await
    }

    /// [`crate::usecases::create_token`] over one store.
    pub async fn create_token(
        store: &dyn Store,
        name: &str,
        role: AccessRole,
        agency: Option<AgencyId>,
        province_code: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
        secret: String,
    ) -> Result<IssuedToken> {
        let request = TokenRequest { name, role, agency, province_code, expires_at };
        crate::usecases::create_token(store, store, request, secret).await
    }
}
