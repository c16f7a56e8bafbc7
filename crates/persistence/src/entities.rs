//! SeaORM entities: the rows as stored. They never leave this crate; `convert.rs` turns them
//! into domain values.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub(crate) enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub(crate) mod plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plans")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_number: String,
        pub title: String,
        pub plan_title: String,
        pub issuing_office: String,
        pub issue_date: Date,
        pub implements_title: String,
        pub implements_reference: String,
        pub notice: String,
    }
    no_relations!();
}

pub(crate) mod section {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sections")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub plan_id: i64,
        pub position: i32,
        pub numeral: String,
        pub title: String,
    }
    no_relations!();
}

pub(crate) mod subsection {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subsections")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub section_id: i64,
        pub position: i32,
        pub numeral: String,
        pub title: String,
    }
    no_relations!();
}

pub(crate) mod task {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tasks")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub plan_id: i64,
        pub section_id: i64,
        pub subsection_id: i64,
        pub number: i32,
        pub text: String,
        pub responsibility_mode: String,
    }
    no_relations!();
}

pub(crate) mod agency {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agencies")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub name_zh: String,
        pub abbreviation: Option<String>,
    }
    no_relations!();
}

pub(crate) mod agency_alias {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_aliases")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub agency_id: i64,
        pub alias: String,
    }
    no_relations!();
}

pub(crate) mod responsibility {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "responsibilities")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub task_id: i64,
        pub agency_id: i64,
        pub role: String,
        pub position: i32,
    }
    no_relations!();
}

pub(crate) mod province {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provinces")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub name: String,
        pub name_zh: String,
        pub kind: String,
    }
    no_relations!();
}

pub(crate) mod progress_report {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "progress_reports")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub task_id: i64,
        pub agency_id: Option<i64>,
        pub province_id: Option<i64>,
        pub period: String,
        pub status: String,
        pub percent_complete: Option<i32>,
        pub summary: String,
        /// A JSON array of strings.
        pub evidence_urls: String,
        /// ON_TRACK, AT_RISK or OFF_TRACK, if said.
        pub health: Option<String>,
        pub obstacles: Option<String>,
        pub created_at: DateTimeUtc,
        /// When it last entered SUBMITTED.
        pub submitted_at: Option<DateTimeUtc>,
        pub first_submitted_at: Option<DateTimeUtc>,
        /// PART or CONSOLIDATED.
        pub kind: String,
        /// JSON of the last accepted content (`AcceptedVersion`).
        pub accepted_content: Option<String>,
        pub version: i32,
        pub is_demo: bool,
        pub state: String,
        pub client_report_id: Option<String>,
        pub review_comment: Option<String>,
        pub updated_at: Option<DateTimeUtc>,
        // Denormalised for supervision (set in `convert.rs` only): the instants the period
        // starts and ends (exclusive), in China Standard Time.
        pub period_starts_at: DateTimeUtc,
        pub period_ends_at: DateTimeUtc,
        /// Whether a write ever left it RETURNED (never reset).
        pub ever_returned: bool,
        /// The accepted version's status, percent and health (NULL without one).
        pub accepted_status: Option<String>,
        pub accepted_percent: Option<i32>,
        pub accepted_health: Option<String>,
    }
    no_relations!();
}

pub(crate) mod api_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub role: String,
        pub agency_id: Option<i64>,
        pub province_id: Option<i64>,
        pub secret_hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
        pub last_used_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod report_history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_history")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub report_id: i64,
        pub version: i32,
        pub action: String,
        pub actor: String,
        pub at: DateTimeUtc,
        /// A JSON array of field changes.
        pub changes: String,
    }
    no_relations!();
}

pub(crate) mod report_change {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_changes")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub report_id: i64,
        pub kind: String,
        pub version: i32,
        pub state: String,
        pub agency_id: Option<i64>,
        pub province_id: Option<i64>,
        pub actor: String,
        pub at: DateTimeUtc,
        /// The writing transaction's id on PostgreSQL (the column's default), 0 on SQLite and
        /// for rows older than migration 8. Never set by the application.
        pub txid: i64,
    }
    no_relations!();
}

pub(crate) mod idempotency_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub actor: String,
        pub key: String,
        pub fingerprint: String,
        pub report_id: i64,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod reporting_period {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reporting_periods")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The period key ("2016-Q4").
        pub period: String,
        pub starts_at: DateTimeUtc,
        /// Exclusive.
        pub ends_at: DateTimeUtc,
        pub due_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }
    no_relations!();
}

pub(crate) mod reporting_period_history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reporting_period_history")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub period_id: i64,
        pub version: i32,
        pub action: String,
        pub actor: String,
        pub at: DateTimeUtc,
        /// A JSON array of field changes.
        pub changes: String,
    }
    no_relations!();
}

pub(crate) mod obligation_adjustment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "obligation_adjustments")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// EXEMPT or EXTEND.
        pub kind: String,
        /// The period key; NULL for every period (exemptions only).
        pub period: Option<String>,
        pub task_id: i64,
        pub agency_id: Option<i64>,
        pub province_id: Option<i64>,
        /// The new due date (extensions only).
        pub due_at: Option<DateTimeUtc>,
        pub reason: String,
        pub actor: String,
        pub at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        pub revoked_by: Option<String>,
        pub revoke_reason: Option<String>,
    }
    no_relations!();
}

pub(crate) mod obligation_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "obligation_events")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// DUE_SOON or OVERDUE.
        pub kind: String,
        /// The period key.
        pub period: String,
        pub task_id: i64,
        /// AGENCY or PROVINCE.
        pub party_kind: String,
        pub party_id: i64,
        pub due_at: DateTimeUtc,
        pub recorded_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod webhook_endpoint {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub url: String,
        /// Change kinds, comma-separated.
        pub kinds: String,
        pub token_id: i64,
        pub secret: String,
        pub created_at: DateTimeUtc,
        pub disabled_at: Option<DateTimeUtc>,
        pub cursor_txn: i64,
        pub cursor_id: i64,
        /// The secret a rotation replaced, still signing until `previous_secret_until`.
        pub previous_secret: Option<String>,
        pub previous_secret_until: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod obligation_timer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "obligation_timer")]
    pub(crate) struct Model {
        /// Always 1: the table holds one row.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub recorded_until: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod webhook_delivery {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub endpoint_id: i64,
        pub message_id: String,
        pub change_id: i64,
        pub payload: String,
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_error: Option<String>,
        pub last_status_code: Option<i32>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
    }
    no_relations!();
}
