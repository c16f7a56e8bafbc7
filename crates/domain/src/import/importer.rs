//! The plan importer: turns the English text of a State Council "division of work" document
//! into a [`PlanSeed`]. Pure: text in, plan out; reading and writing files is the caller's job.
//!
//! The genre's rules, as the document states them:
//! - Sections are headed `I. Title`, subsections `(i) Title` (sometimes `(i). Title`), tasks
//!   `N. Text (Agencies ...)`.
//! - "The first department listed takes the lead, and the same pattern is followed hereafter":
//!   the first agency leads unless the text says "X and Y take the lead, and A, B ... are
//!   responsible", in which case every agency before "take the lead" leads.
//! - "... are responsible for the various tasks based on the division of responsibilities":
//!   each agency answers for its own part ([`ResponsibilityMode::Divided`]).
//!
//! The text is messy: page breaks split paragraphs (even agency names) across blank lines, and
//! lists are not always punctuated alike. The importer joins broken paragraphs, places every
//! agency string against the [`AgencyRegistry`], keeps every spelling it sees as an alias, and
//! fails loudly — naming the line — on anything it cannot place. It never invents or drops one.

use chrono::NaiveDate;

use super::seed::{AgencyRegistry, AgencySeed, PlanSeed, ResponsibilitySeed, SectionSeed, SubsectionSeed, TaskSeed};
use crate::plan::{DocumentInfo, ResponsibilityMode, Role};
use crate::{Error, Result};

const DIVIDED_TAIL: &str = "the various tasks based on the division of responsibilities";
const JOINT_TAIL: &str = "this task";
const LEAD_RULE: &str = "The first department listed takes the lead";

/// A paragraph of the source and the line it starts on (1-based).
#[derive(Debug, Clone)]
struct Paragraph {
    line: usize,
    text: String,
}

fn err(line: usize, message: impl Into<String>) -> Error {
    Error::validation(format!("source line {line}"), message)
}

/// Splits text into paragraphs at blank lines; lines within a paragraph are joined by a space.
fn paragraphs(source: &str) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::new();
    let mut current: Option<Paragraph> = None;
    for (i, raw) in source.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            out.extend(current.take());
            continue;
        }
        match current.as_mut() {
            Some(p) => {
                p.text.push(' ');
                p.text.push_str(line);
            }
            None => current = Some(Paragraph { line: i + 1, text: line.to_owned() }),
        }
    }
    out.extend(current);
    out
}

/// Roman numeral for 1..=39.
fn roman(mut n: usize) -> String {
    let mut s = String::new();
    for (value, digits) in [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")] {
        while n >= value {
            s.push_str(digits);
            n -= value;
        }
    }
    s
}

/// `I. Title` → ("I", "Title") when the numeral is upper-case Roman.
fn section_heading(text: &str) -> Option<(&str, &str)> {
    let (numeral, title) = text.split_once(". ")?;
    (!numeral.is_empty() && numeral.chars().all(|c| matches!(c, 'I' | 'V' | 'X'))).then_some((numeral, title.trim()))
}

/// `(i) Title` or `(i). Title` → ("i", "Title").
fn subsection_heading(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('(')?;
    let (numeral, title) = rest.split_once(')')?;
    if numeral.is_empty() || !numeral.chars().all(|c| matches!(c, 'i' | 'v' | 'x')) {
        return None;
    }
    let title = title.strip_prefix('.').unwrap_or(title);
    title.starts_with(' ').then_some((numeral, title.trim()))
}

/// `12. Text` → (12, "Text").
fn task_start(text: &str) -> Option<(i32, &str)> {
    let (number, rest) = text.split_once(". ")?;
    if number.is_empty() || number.len() > 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((number.parse().ok()?, rest))
}

/// A task paragraph is complete when it ends with its closing parenthesis.
fn is_complete(text: &str) -> bool {
    let depth = text.chars().fold(0i32, |d, c| match c {
        '(' => d + 1,
        ')' => d - 1,
        _ => d,
    });
    depth == 0 && text.ends_with(')')
}

/// Splits `Text. (Agencies ...)` into the text and the final parenthetical's content.
fn split_final_parenthetical(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_suffix(')')?;
    let mut depth = 1;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some((body[..i].trim_end(), &body[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// Accumulates the agencies in order of first appearance with every spelling seen.
struct AgencyIndex<'r> {
    registry: &'r AgencyRegistry,
    order: Vec<usize>,
    aliases: Vec<Vec<String>>,
}

impl<'r> AgencyIndex<'r> {
    fn new(registry: &'r AgencyRegistry) -> Self {
        Self { registry, order: Vec::new(), aliases: vec![Vec::new(); registry.agencies.len()] }
    }

    /// Places one agency string, recording it; returns the canonical name.
    fn place(&mut self, spelling: &str) -> Option<String> {
        let i = self.registry.place(spelling)?;
        if !self.order.contains(&i) {
            self.order.push(i);
        }
        let agency = &self.registry.agencies[i];
        if spelling != agency.name && !self.aliases[i].iter().any(|a| a == spelling) {
            self.aliases[i].push(spelling.to_owned());
        }
        Some(agency.name.clone())
    }

    fn into_seeds(self) -> Vec<AgencySeed> {
        self.order
            .iter()
            .map(|&i| {
                let a = &self.registry.agencies[i];
                AgencySeed {
                    name: a.name.clone(),
                    name_zh: a.name_zh.clone(),
                    abbreviation: a.abbreviation.clone(),
                    aliases: self.aliases[i].clone(),
                }
            })
            .collect()
    }
}

/// Splits an agency list ("The A, the B, and the C") into its agency strings, placing each
/// against the registry. A piece that is no known spelling is retried as two agencies joined
/// by a bare "and" (lists sometimes drop a "the"); anything else fails.
fn agency_list(list: &str, index: &mut AgencyIndex<'_>, line: usize) -> Result<Vec<String>> {
    let list = list.trim();
    let list = list.strip_prefix("The ").or_else(|| list.strip_prefix("the ")).unwrap_or(list);
    let mut pieces = vec![list.to_owned()];
    for separator in [", and the ", ", the ", " and the "] {
        pieces = pieces.iter().flat_map(|p| p.split(separator).map(str::to_owned)).collect();
    }
    let mut names = Vec::new();
    for piece in pieces.iter().map(|p| p.trim()) {
        if piece.is_empty() {
            return Err(err(line, format!("empty agency name in list {list:?}")));
        }
        if let Some(name) = index.place(piece) {
            names.push(name);
            continue;
        }
        let split = piece.match_indices(" and ").find_map(|(at, sep)| {
            let (left, right) = (&piece[..at], &piece[at + sep.len()..]);
            let right = right.strip_prefix("the ").unwrap_or(right);
            (index.registry.place(left).is_some() && index.registry.place(right).is_some()).then_some((left, right))
        });
        match split {
            Some((left, right)) => {
                names.extend(index.place(left));
                names.extend(index.place(right));
            }
            None => {
                return Err(err(line, format!("cannot place agency {piece:?}: it is in no entry of agencies.json")));
            }
        }
    }
    Ok(names)
}

/// Parses the parenthetical after a task into its mode and responsibilities.
fn responsibilities(
    inner: &str,
    index: &mut AgencyIndex<'_>,
    line: usize,
) -> Result<(ResponsibilityMode, Vec<ResponsibilitySeed>)> {
    // The document states the lead rule once, inside task 2's parenthetical.
    let inner = match inner.find(&format!(". {LEAD_RULE}")) {
        Some(at) => &inner[..at],
        None => inner,
    };
    let (lead_part, rest) = match inner.split_once(" take the lead") {
        Some((leads, rest)) => (Some(leads), rest),
        None => match inner.split_once(" takes the lead") {
            Some((leads, rest)) => (Some(leads), rest),
            None => (None, inner),
        },
    };
    let (others, mode) = if lead_part.is_some() && rest.trim().is_empty() {
        (None, ResponsibilityMode::Joint)
    } else {
        let rest = match lead_part {
            Some(_) => rest
                .strip_prefix(", and ")
                .ok_or_else(|| err(line, format!("unexpected text after the leads: {rest:?}")))?,
            None => rest,
        };
        let (list, tail) = rest
            .split_once(" are responsible for ")
            .or_else(|| rest.split_once(" is responsible for "))
            .ok_or_else(|| err(line, format!("no \"responsible for\" in {inner:?}")))?;
        let mode = match tail.trim() {
            JOINT_TAIL => ResponsibilityMode::Joint,
            DIVIDED_TAIL => ResponsibilityMode::Divided,
            other => {
                return Err(err(line, format!("unknown responsibility wording {other:?}")));
            }
        };
        (Some(list), mode)
    };

    let mut seeds: Vec<ResponsibilitySeed> = Vec::new();
    let mut push = |names: Vec<String>, role_of: &dyn Fn(usize) -> Role| -> Result<()> {
        for name in names {
            if seeds.iter().any(|s| s.agency == name) {
                return Err(err(line, format!("{name:?} is listed twice")));
            }
            let role = role_of(seeds.len());
            seeds.push(ResponsibilitySeed { agency: name, role });
        }
        Ok(())
    };
    if let Some(leads) = lead_part {
        push(agency_list(leads, index, line)?, &|_| Role::Lead)?;
        if let Some(list) = others {
            push(agency_list(list, index, line)?, &|_| Role::Participant)?;
        }
    } else {
        let list = others.unwrap_or_default();
        push(agency_list(list, index, line)?, &|position| {
            if position == 0 { Role::Lead } else { Role::Participant }
        })?;
    }
    if seeds.is_empty() {
        return Err(err(line, "task names no agency"));
    }
    Ok((mode, seeds))
}

/// The first "July 8, 2016" in a text, as 2016-07-08.
fn find_date(text: &str) -> Option<NaiveDate> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(3).find_map(|w| {
        let month = MONTHS.iter().position(|m| *m == w[0])? as u32 + 1;
        let day: u32 = w[1].strip_suffix(',')?.parse().ok()?;
        let year: i32 = w[2].parse().ok()?;
        NaiveDate::from_ymd_opt(year, month, day)
    })
}

/// Reads the document's metadata from the paragraphs before the first section.
fn document_info(preamble: &[Paragraph]) -> Result<DocumentInfo> {
    let find = |what: &str, pred: &dyn Fn(&str) -> bool| {
        preamble
            .iter()
            .find(|p| pred(&p.text))
            .map(|p| p.text.as_str())
            .ok_or_else(|| err(1, format!("the preamble has no {what}")))
    };
    let title = preamble.first().map(|p| p.text.clone()).ok_or_else(|| err(1, "empty document"))?;
    let number_line = find("document number (\"Letter No. ...\")", &|t| t.starts_with("Letter No."))?;
    let (document_number, issuing_office) =
        number_line.split_once(" from ").ok_or_else(|| err(1, "the document number names no issuing office"))?;
    let notice = find("notice (\"To ...\")", &|t| t.starts_with("To "))?;
    let date_line = find("issue date", &|t| find_date(t).is_some())?;
    let issue_date = find_date(date_line).ok_or_else(|| err(1, "bad issue date"))?;
    let plan_title = find("plan title", &|t| t.starts_with("The Plan for"))?;
    let intro = find("\"In order to implement\" paragraph", &|t| t.starts_with("In order to implement"))?;
    let quoted = intro.split('"').nth(1).ok_or_else(|| err(1, "the opinions are not quoted"))?;
    let after_quote = intro.splitn(3, '"').nth(2).unwrap_or_default().trim_start();
    let reference = after_quote
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(r, _)| r)
        .ok_or_else(|| err(1, "the opinions' reference is not given"))?;
    Ok(DocumentInfo {
        title,
        plan_title: plan_title.to_owned(),
        issuing_office: issuing_office.trim().to_owned(),
        document_number: document_number.trim().to_owned(),
        issue_date,
        implements_title: quoted.to_owned(),
        implements_reference: reference.to_owned(),
        notice: notice.to_owned(),
    })
}

/// Imports a division-of-work document. `source_name` is recorded in the plan as provenance.
pub fn import_plan(source: &str, source_name: &str, registry: &AgencyRegistry) -> Result<PlanSeed> {
    let paragraphs = paragraphs(source);
    let first_section = paragraphs
        .iter()
        .position(|p| section_heading(&p.text).is_some_and(|(n, _)| n == "I"))
        .ok_or_else(|| err(1, "no section \"I.\" found"))?;
    let document = document_info(&paragraphs[..first_section])?;

    let mut index = AgencyIndex::new(registry);
    let mut sections: Vec<SectionSeed> = Vec::new();
    // A task paragraph still waiting for the rest of its text (split by a page break).
    let mut open: Option<(i32, Paragraph)> = None;
    let mut next_task = 1;

    let finish = |open: &mut Option<(i32, Paragraph)>,
                  sections: &mut Vec<SectionSeed>,
                  index: &mut AgencyIndex<'_>|
     -> Result<()> {
        let Some((number, p)) = open.take() else {
            return Ok(());
        };
        if !is_complete(&p.text) {
            return Err(err(p.line, format!("task {number} does not end with its agency list")));
        }
        let (text, inner) = split_final_parenthetical(&p.text)
            .ok_or_else(|| err(p.line, format!("task {number} has no agency list")))?;
        let text = text.strip_prefix(&format!("{number}. ")).unwrap_or(text).to_owned();
        let (mode, responsibilities) = responsibilities(inner, index, p.line)?;
        let subsection = sections
            .last_mut()
            .and_then(|s| s.subsections.last_mut())
            .ok_or_else(|| err(p.line, format!("task {number} comes before any subsection")))?;
        subsection.tasks.push(TaskSeed { number, text, mode, responsibilities });
        Ok(())
    };

    for p in &paragraphs[first_section..] {
        if let Some((_, partial)) = open.as_mut()
            && !is_complete(&partial.text)
        {
            partial.text.push(' ');
            partial.text.push_str(&p.text);
            continue;
        }
        if let Some((numeral, title)) = section_heading(&p.text) {
            finish(&mut open, &mut sections, &mut index)?;
            let expected = roman(sections.len() + 1);
            if numeral != expected {
                return Err(err(p.line, format!("section {numeral} where {expected} was expected")));
            }
            sections.push(SectionSeed {
                numeral: numeral.to_owned(),
                title: title.to_owned(),
                subsections: Vec::new(),
            });
        } else if let Some((numeral, title)) = subsection_heading(&p.text) {
            finish(&mut open, &mut sections, &mut index)?;
            let section = sections.last_mut().ok_or_else(|| err(p.line, "subsection before any section"))?;
            let expected = roman(section.subsections.len() + 1).to_lowercase();
            if numeral != expected {
                return Err(err(p.line, format!("subsection ({numeral}) where ({expected}) was expected")));
            }
            section.subsections.push(SubsectionSeed {
                numeral: numeral.to_owned(),
                title: title.trim_end_matches('.').to_owned(),
                tasks: Vec::new(),
            });
        } else if let Some((number, _)) = task_start(&p.text) {
            finish(&mut open, &mut sections, &mut index)?;
            if number != next_task {
                return Err(err(p.line, format!("task {number} where {next_task} was expected")));
            }
            next_task += 1;
            open = Some((number, p.clone()));
        } else {
            return Err(err(p.line, format!("cannot place paragraph {:?}", truncate(&p.text))));
        }
    }
    finish(&mut open, &mut sections, &mut index)?;

    for section in &sections {
        if section.subsections.is_empty() {
            return Err(err(1, format!("section {} has no subsections", section.numeral)));
        }
        if let Some(sub) = section.subsections.iter().find(|s| s.tasks.is_empty()) {
            return Err(err(1, format!("subsection {}.({}) has no tasks", section.numeral, sub.numeral)));
        }
    }

    Ok(PlanSeed { source: source_name.to_owned(), document, agencies: index.into_seeds(), sections })
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests;
