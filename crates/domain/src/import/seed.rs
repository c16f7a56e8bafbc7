//! The plan's data files under `seeds/`: their shapes and their loading rules.
//!
//! - `agencies.json` — the curated registry of central agencies: canonical English name,
//!   official Chinese name, common abbreviation and every known spelling. The importer places
//!   each agency string of the source against it.
//! - `provinces.json` — the 31 provincial-level divisions with GB/T 2260 codes.
//! - `plan-2016-66.json` — the importer's output: the plan as parsed from the source text.

use serde::{Deserialize, Serialize};

use crate::plan::{DocumentInfo, ResponsibilityMode, Role};
use crate::province::ProvinceKind;
use crate::{Error, Result};

/// One entry of the agency registry (`seeds/agencies.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryAgency {
    /// Canonical English name.
    pub name: String,
    /// Official Chinese name.
    pub name_zh: String,
    /// Common English abbreviation, if one is in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abbreviation: Option<String>,
    /// Other spellings of the name known to occur in documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_spellings: Vec<String>,
}

/// The agency registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyRegistry {
    /// The agencies.
    pub agencies: Vec<RegistryAgency>,
}

impl AgencyRegistry {
    /// Parses `agencies.json` and checks that no spelling names two agencies.
    pub fn from_json(text: &str) -> Result<Self> {
        let registry: Self =
            serde_json::from_str(text).map_err(|e| Error::validation("agencies.json", e.to_string()))?;
        let mut seen = std::collections::HashMap::new();
        for (i, agency) in registry.agencies.iter().enumerate() {
            for spelling in std::iter::once(&agency.name).chain(&agency.known_spellings) {
                if let Some(other) = seen.insert(spelling.to_lowercase(), i)
                    && other != i
                {
                    return Err(Error::validation(
                        "agencies.json",
                        format!("spelling {spelling:?} names two agencies"),
                    ));
                }
            }
        }
        Ok(registry)
    }

    /// The index of the agency `spelling` names (canonical name or known spelling, exact).
    pub fn place(&self, spelling: &str) -> Option<usize> {
        self.agencies.iter().position(|a| a.name == spelling || a.known_spellings.iter().any(|s| s == spelling))
    }
}

/// One province-level division (`seeds/provinces.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvinceSeed {
    /// GB/T 2260 code.
    pub code: String,
    /// English name.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// Province, autonomous region or municipality.
    pub kind: ProvinceKind,
}

/// Parses `provinces.json`, checking codes are six digits and unique.
pub fn provinces_from_json(text: &str) -> Result<Vec<ProvinceSeed>> {
    let provinces: Vec<ProvinceSeed> =
        serde_json::from_str(text).map_err(|e| Error::validation("provinces.json", e.to_string()))?;
    let mut codes = std::collections::HashSet::new();
    for p in &provinces {
        if p.code.len() != 6 || !p.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation("provinces.json", format!("bad code {:?}", p.code)));
        }
        if !codes.insert(p.code.clone()) {
            return Err(Error::validation("provinces.json", format!("duplicate code {}", p.code)));
        }
    }
    Ok(provinces)
}

/// The importer's output: a whole plan, ready to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanSeed {
    /// Where the data comes from; informational.
    pub source: String,
    /// What the document says about itself.
    pub document: DocumentInfo,
    /// The agencies the plan names, in order of first appearance.
    pub agencies: Vec<AgencySeed>,
    /// The sections, in document order.
    pub sections: Vec<SectionSeed>,
}

/// An agency as the plan names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgencySeed {
    /// Canonical English name.
    pub name: String,
    /// Official Chinese name.
    pub name_zh: String,
    /// Common English abbreviation, if one is in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abbreviation: Option<String>,
    /// Every other spelling of this agency seen in the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl AgencySeed {
    /// Whether `spelling` is already one of its names (ignoring case).
    fn knows(&self, spelling: &str) -> bool {
        let s = spelling.to_lowercase();
        self.name.to_lowercase() == s
            || self.name_zh.to_lowercase() == s
            || self.abbreviation.as_deref().is_some_and(|a| a.to_lowercase() == s)
            || self.aliases.iter().any(|a| a.to_lowercase() == s)
    }
}

/// A section with its subsections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SectionSeed {
    /// As printed: "I", "II", ...
    pub numeral: String,
    /// The heading's text.
    pub title: String,
    /// The subsections, in order.
    pub subsections: Vec<SubsectionSeed>,
}

/// A subsection with its tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubsectionSeed {
    /// As printed, without parentheses: "i", "ii", ...
    pub numeral: String,
    /// The heading's text.
    pub title: String,
    /// The tasks, in order.
    pub tasks: Vec<TaskSeed>,
}

/// A task with its responsible agencies, in listed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskSeed {
    /// The task's number, as printed.
    pub number: i32,
    /// What is to be done.
    pub text: String,
    /// How the agencies share it.
    pub mode: ResponsibilityMode,
    /// The agencies, as listed.
    pub responsibilities: Vec<ResponsibilitySeed>,
}

/// One agency on a task; `agency` is the canonical name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponsibilitySeed {
    /// The agency's canonical name.
    pub agency: String,
    /// Lead or participant.
    pub role: Role,
}

impl PlanSeed {
    /// Parses a plan file and checks its internal references.
    pub fn from_json(text: &str) -> Result<Self> {
        let seed: Self = serde_json::from_str(text).map_err(|e| Error::validation("plan", e.to_string()))?;
        let names: std::collections::HashSet<&str> = seed.agencies.iter().map(|a| a.name.as_str()).collect();
        for task in seed.tasks() {
            for r in &task.responsibilities {
                if !names.contains(r.agency.as_str()) {
                    return Err(Error::validation(
                        "plan",
                        format!("task {} names unknown agency {:?}", task.number, r.agency),
                    ));
                }
            }
        }
        Ok(seed)
    }

    /// The plan as pretty, diff-friendly JSON with a trailing newline.
    pub fn to_json(&self) -> Result<String> {
        let mut out = serde_json::to_string_pretty(self).map_err(Error::internal)?;
        out.push('\n');
        Ok(out)
    }

    /// The plan with every name the registry knows for its agencies: each known spelling (such
    /// as an official full name) the plan's agency lacks becomes an alias, so `agency(name:)`
    /// finds the agency by it.
    #[must_use]
    pub fn with_registry_spellings(mut self, registry: &AgencyRegistry) -> Self {
        for agency in &mut self.agencies {
            let Some(entry) = registry.agencies.iter().find(|r| r.name == agency.name) else {
                continue;
            };
            for spelling in &entry.known_spellings {
                if !agency.knows(spelling) {
                    agency.aliases.push(spelling.clone());
                }
            }
        }
        self
    }

    /// Every task, in document order.
    pub fn tasks(&self) -> impl Iterator<Item = &TaskSeed> {
        self.sections.iter().flat_map(|s| &s.subsections).flat_map(|s| &s.tasks)
    }
}
