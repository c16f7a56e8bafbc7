//! `workplan import-plan`: a division-of-work document into the plan data file the service loads.

use std::path::Path;

use anyhow::{Context as _, bail};
use workplan_domain::import::seed::AgencyRegistry;

use crate::AGENCIES_JSON;
use crate::cli::ImportPlanArgs;

/// Imports `args.file`, then writes the plan, prints it, or (`--check`) compares it with the file.
pub(super) fn run(args: &ImportPlanArgs) -> anyhow::Result<()> {
    let ImportPlanArgs { file, registry, out, check } = args;
    let source = read(file)?;
    let registry_text = match registry {
        Some(path) => read(path)?,
        None => AGENCIES_JSON.to_owned(),
    };
    let registry = AgencyRegistry::from_json(&registry_text)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let plan = workplan_domain::import::importer::import_plan(&source, &name, &registry)
        .with_context(|| format!("cannot import {}", file.display()))?;
    let json = plan.to_json()?;
    let summary = format!(
        "{}: {} sections, {} subsections, {} tasks, {} agencies",
        plan.document.document_number,
        plan.sections.len(),
        plan.sections.iter().map(|s| s.subsections.len()).sum::<usize>(),
        plan.tasks().count(),
        plan.agencies.len()
    );
    if *check {
        if read(out)? != json {
            bail!(
                "{} is out of date with {}; run `workplan import-plan {}`",
                out.display(),
                file.display(),
                file.display()
            );
        }
        eprintln!("{summary}; {} is up to date", out.display());
    } else if out.as_os_str() == "-" {
        print!("{json}");
    } else {
        std::fs::write(out, json).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("{summary}; wrote {}", out.display());
    }
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}
