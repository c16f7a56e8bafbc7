//! Report filters by the keys people use: the progress-report filter, who reported (by agency
//! ID or any agency name, or province code), periods by range, and the review queue's filter.
//! Every filter narrows a [`ReportFilter`] built from the caller's scope, never widens it.

use async_graphql::{Context, ID, InputObject};
use workplan_domain::access::ReportScope;
use workplan_domain::ids::AgencyId;
use workplan_domain::listing::{ReportFilter, ReportOrder, ReportQuery, agency_name, numeral};
use workplan_domain::report::period::Period;

use super::report::{ReportKind, ReportState, ReportStatus};
use crate::connection::page_request;
use crate::context::scope;
use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};

/// Who filed a report: exactly one of `agencyId`, `agencyName` or `provinceCode`.
#[derive(InputObject, Debug, Default)]
pub(crate) struct ReporterFilter {
    /// A central agency (an Agency ID).
    pub agency_id: Option<ID>,
    /// A central agency by any of its names: English or Chinese name, abbreviation or alias,
    /// ignoring case ("MOFCOM", "商务部"). An unknown name matches no report.
    pub agency_name: Option<String>,
    /// A province, by GB/T 2260 code (e.g. "440000").
    pub province_code: Option<String>,
}

impl ReporterFilter {
    /// Narrows `filter` to this reporter; `path` names the input in errors.
    pub(crate) fn narrow(self, filter: &mut ReportFilter, path: &str) -> async_graphql::Result<()> {
        let given = [self.agency_id.is_some(), self.agency_name.is_some(), self.province_code.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(bad_input(path, "give exactly one of agencyId, agencyName or provinceCode"));
        }
        if let Some(id) = self.agency_id {
            let id = ids::decode(Kind::Agency, &id, &format!("{path}.agencyId"))?;
            filter.agency = Some(workplan_domain::ids::AgencyId(id));
        }
        filter.agency_name = agency_name(self.agency_name, &format!("{path}.agencyName")).gql()?;
        if let Some(code) = self.province_code {
            filter.province_code = Some(code.trim().to_owned());
        }
        Ok(())
    }
}

/// A period argument parsed, with errors naming `field`.
pub(crate) fn period(typed: Option<String>, field: &str) -> async_graphql::Result<Option<Period>> {
    typed
        .map(|p| {
            Period::parse(p.trim()).map_err(|e| match e {
                workplan_domain::Error::Validation { message, .. } => {
                    workplan_domain::Error::validation(field, message)
                }
                other => other,
            })
        })
        .transpose()
        .gql()
}

/// Narrows `filter` to periods starting within `from..=to` (either may be open).
pub(crate) fn period_range(
    filter: &mut ReportFilter,
    from: Option<String>,
    to: Option<String>,
    path: &str,
) -> async_graphql::Result<()> {
    filter.period_from = period(from, &format!("{path}.periodFrom"))?;
    filter.period_to = period(to, &format!("{path}.periodTo"))?;
    if let (Some(f), Some(t)) = (filter.period_from, filter.period_to)
        && f.start() > t.start()
    {
        return Err(bad_input(&format!("{path}.periodTo"), "starts before periodFrom"));
    }
    Ok(())
}

/// Which reports of the review queue to list. All conditions must hold.
#[derive(InputObject, Debug, Default)]
pub(crate) struct ReviewQueueFilter {
    /// Only reports on the task with this number.
    pub task_number: Option<i32>,
    /// Only reports on tasks in the section with this numeral ("III", "3", "三").
    pub section_numeral: Option<String>,
    /// Only reports filed by this reporter.
    pub reporter: Option<ReporterFilter>,
    /// Only reports on exactly this period ("2016", "2016-H2", "2016-Q3" or "2016-09").
    pub period: Option<String>,
    /// Only reports whose period starts on or after this period's start ("2016-Q3" and
    /// "2016-07" both mean from 1 July 2016).
    pub period_from: Option<String>,
    /// Only reports whose period starts on or before this period's start.
    pub period_to: Option<String>,
}

impl ReviewQueueFilter {
    /// Narrows `filter` (the queue: submitted reports) by this input.
    pub(crate) fn narrow(self, filter: &mut ReportFilter) -> async_graphql::Result<()> {
        filter.task_number = self.task_number;
        filter.section_numeral = numeral(self.section_numeral, "filter.sectionNumeral").gql()?;
        if let Some(reporter) = self.reporter {
            reporter.narrow(filter, "filter.reporter")?;
        }
        filter.period = period(self.period, "filter.period")?.map(|p| p.to_string());
        period_range(filter, self.period_from, self.period_to, "filter")
    }
}

/// Which reports to list. All conditions must hold.
#[derive(InputObject, Default, Debug)]
pub(crate) struct ProgressReportFilter {
    /// Only reports on the task with this number.
    pub task_number: Option<i32>,
    /// Only reports filed by this agency (an Agency ID).
    pub agency: Option<ID>,
    /// Only reports filed by the province with this GB/T 2260 code.
    pub province_code: Option<String>,
    /// Only reports on exactly this period ("2016", "2016-H2", "2016-Q3" or "2016-09").
    pub period: Option<String>,
    /// Only reports with this status.
    pub status: Option<ReportStatus>,
    /// Only demo reports (true) or only real ones (false).
    pub demo: Option<bool>,
    /// Only reports in this lifecycle state (within what the caller may see). ACCEPTED lists
    /// the officially accepted reports: a report reopened for correction is among them, as its
    /// accepted version.
    pub state: Option<ReportState>,
    /// Only reports in one of these lifecycle states (within what the caller may see).
    pub states: Option<Vec<ReportState>>,
    /// Only the report a sync client filed under this id.
    pub client_report_id: Option<String>,
    /// Only reports of this kind: PART (a reporter's own) or CONSOLIDATED (a lead's on a whole
    /// DIVIDED task).
    pub kind: Option<ReportKind>,
    /// Only reports filed by this reporter (by agency ID, any agency name, or province code).
    pub reporter: Option<ReporterFilter>,
    /// Only reports whose period starts on or after this period's start ("2016-Q3" and
    /// "2016-07" both mean from 1 July 2016; periods of any length compare by their start).
    pub period_from: Option<String>,
    /// Only reports whose period starts on or before this period's start.
    pub period_to: Option<String>,
    /// Only reports on tasks in the section with this numeral ("III", "3", "三").
    pub section_numeral: Option<String>,
}

impl ProgressReportFilter {
    pub(crate) fn into_domain(self, scope: ReportScope) -> async_graphql::Result<ReportFilter> {
        let agency = self.agency.map(|id| ids::decode(Kind::Agency, &id, "filter.agency")).transpose()?;
        let mut filter = ReportFilter {
            state: self.state.map(Into::into),
            task_number: self.task_number,
            agency: agency.map(AgencyId),
            province_code: self.province_code,
            period: period(self.period, "filter.period")?.map(|p| p.to_string()),
            status: self.status.map(Into::into),
            demo: self.demo,
            client_report_id: self.client_report_id,
            kind: self.kind.map(Into::into),
            states: self.states.map(|s| s.into_iter().map(Into::into).collect()),
            section_numeral: numeral(self.section_numeral, "filter.sectionNumeral").gql()?,
            ..ReportFilter::new(scope)
        };
        if let Some(reporter) = self.reporter {
            if filter.agency.is_some() || filter.province_code.is_some() {
                return Err(crate::error::bad_input(
                    "filter.reporter",
                    "give reporter or agency/provinceCode, not both",
                ));
            }
            reporter.narrow(&mut filter, "filter.reporter")?;
        }
        period_range(&mut filter, self.period_from, self.period_to, "filter")?;
        Ok(filter)
    }
}

/// Builds a report query from Relay arguments.
pub(crate) fn report_query(
    ctx: &Context<'_>,
    filter: Option<ProgressReportFilter>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<ReportQuery> {
    let filter = filter.unwrap_or_default().into_domain(scope(ctx)?)?;
    Ok(ReportQuery {
        filter,
        page: page_request("report", first, after, last, before)?,
        oldest_first: false,
        order: ReportOrder::default(),
    })
}
