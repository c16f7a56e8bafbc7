//! Domain operations that combine rules with lookups. The API calls these; they are the one
//! place writes are decided.

use crate::model::{ProgressReport, Reporter};
use crate::ports::Store;
use crate::report::{NewReport, ReporterRef, SubmitReport};
use crate::{Error, Result};

/// Checks and records a progress report. Nothing is written unless every rule holds.
pub async fn submit_report(store: &dyn Store, input: SubmitReport) -> Result<ProgressReport> {
    let fields = input.validate_fields()?;
    let task = store
        .tasks_by_numbers(&[input.task_number])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::not_found(format!("task {}", input.task_number), Some("taskNumber"))
        })?;
    let reporter = match &input.reporter {
        ReporterRef::Agency(id) => {
            let agency = store
                .agencies_by_ids(&[*id])
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| Error::not_found("agency", Some("reporter.agencyId")))?;
            let responsible = store
                .responsibilities_by_tasks(&[task.id])
                .await?
                .iter()
                .any(|r| r.agency_id == agency.id);
            if !responsible {
                return Err(Error::validation(
                    "reporter.agencyId",
                    format!(
                        "{} is not responsible for task {}",
                        agency.name, task.number
                    ),
                ));
            }
            Reporter::Agency(agency.id)
        }
        ReporterRef::Province(code) => {
            let province = store
                .provinces_by_codes(std::slice::from_ref(code))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::not_found(format!("province {code:?}"), Some("reporter.provinceCode"))
                })?;
            Reporter::Province(province.id)
        }
    };
    store
        .insert_report(NewReport {
            task_id: task.id,
            reporter,
            fields,
            submitted_at: chrono::Utc::now(),
            is_demo: false,
        })
        .await
}
