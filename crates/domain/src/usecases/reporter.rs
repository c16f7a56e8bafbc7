//! The lookups the report use cases share: a task by number, and who a write acts as.

use crate::access::{ActingReporter, Principal, acting_reporter, check_responsible};
use crate::ids::AgencyId;
use crate::plan::Task;
use crate::ports::PlanReader;
use crate::report::{Reporter, ReporterRef};
use crate::{Error, Result};

/// The task numbered `number`, or NOT_FOUND on input `field`.
pub(super) async fn task_by_number(plan: &dyn PlanReader, number: i32, field: &str) -> Result<Task> {
    plan.tasks_by_numbers(&[number])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found(format!("task {number}"), Some(field)))
}

async fn task_agencies(plan: &dyn PlanReader, task: &Task) -> Result<Vec<AgencyId>> {
    Ok(plan.responsibilities_by_tasks(&[task.id]).await?.iter().map(|r| r.agency_id).collect())
}

/// Resolves who a write acts as: the token's own reporter (checking that what the input named,
/// if anything, is that reporter), or for an admin the reporter it named.
pub(super) async fn reporter_for(
    plan: &dyn PlanReader,
    principal: &Principal,
    requested: Option<&ReporterRef>,
) -> Result<Reporter> {
    Ok(match acting_reporter(principal, requested)? {
        ActingReporter::Own(own, named) => {
            if let (Some(ReporterRef::Province(code)), Reporter::Province(id)) = (named.as_ref(), own) {
                let named_id = plan.provinces_by_codes(std::slice::from_ref(code)).await?.first().map(|p| p.id);
                if named_id != Some(id) {
                    return Err(Error::Forbidden(format!("{} may only report for its own province", principal.name)));
                }
            }
            own
        }
        ActingReporter::OnBehalf(ReporterRef::Agency(id)) => {
            let agency = plan.agencies_by_ids(&[id]).await?.into_iter().next();
            Reporter::Agency(agency.ok_or_else(|| Error::not_found("agency", Some("reporter.agencyId")))?.id)
        }
        ActingReporter::OnBehalf(ReporterRef::Province(code)) => {
            let province = plan.provinces_by_codes(std::slice::from_ref(&code)).await?.into_iter().next();
            Reporter::Province(
                province
                    .ok_or_else(|| Error::not_found(format!("province {code:?}"), Some("reporter.provinceCode")))?
                    .id,
            )
        }
    })
}

/// [`reporter_for`], and for an agency, a check that it is responsible for `task`.
pub(super) async fn resolve_reporter(
    plan: &dyn PlanReader,
    principal: &Principal,
    requested: Option<&ReporterRef>,
    task: &Task,
) -> Result<Reporter> {
    let reporter = reporter_for(plan, principal, requested).await?;
    if let Reporter::Agency(agency) = reporter {
        check_responsible(principal.role, agency, &task_agencies(plan, task).await?, task.number)?;
    }
    Ok(reporter)
}
