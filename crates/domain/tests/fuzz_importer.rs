//! Property-based fuzzing of the plan importer: for any text, a plan or a validation error —
//! never a panic. Mutates the real source and the kept corpus (`fuzz/corpus/importer`).

use workplan_domain::Error;
use workplan_domain::demo::Rng;
use workplan_domain::import::importer::import_plan;
use workplan_domain::import::seed::AgencyRegistry;

const SOURCE: &str = include_str!("../../../seeds/division-of-work-2016-66.txt");
const REGISTRY: &str = include_str!("../../../seeds/agencies.json");

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn corpus() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/importer");
    let mut seeds = vec![SOURCE.to_owned()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                seeds.push(text);
            }
        }
    }
    seeds
}

/// One random edit: cut, duplicate, splice in noise, or truncate — on char boundaries.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return "1. (".into();
    }
    let len = chars.len() as u64;
    let a = rng.below(len) as usize;
    let b = (a + rng.below(200) as usize).min(chars.len());
    let noise = [
        "(",
        ")",
        "\n\n",
        "1. ",
        "(i) ",
        "IV. ",
        " take the lead",
        ", and the ",
        "é",
        "\u{0}",
        "\"",
        " are responsible for this task)",
    ];
    let mut out: Vec<char> = match rng.below(5) {
        0 => chars[..a].iter().chain(&chars[b..]).copied().collect(),
        1 => chars[..b].iter().chain(&chars[a..b]).chain(&chars[b..]).copied().collect(),
        2 => {
            let n = noise[rng.below(noise.len() as u64) as usize];
            chars[..a].iter().copied().chain(n.chars()).chain(chars[a..].iter().copied()).collect()
        }
        3 => chars[..a].to_vec(),
        _ => chars.iter().map(|&c| if rng.below(500) == 0 { '(' } else { c }).collect(),
    };
    out.truncate(200_000);
    out.into_iter().collect()
}

#[test]
fn the_importer_never_panics() {
    let registry = AgencyRegistry::from_json(REGISTRY).expect("registry");
    let iterations = env_u64("WORKPLAN_FUZZ_ITERATIONS", 300);
    let mut rng = Rng::new(env_u64("WORKPLAN_FUZZ_SEED", 66));
    let seeds = corpus();
    let (mut ok, mut rejected) = (0, 0);
    for i in 0..iterations {
        let seed = &seeds[(i as usize) % seeds.len()];
        let mut text = seed.clone();
        for _ in 0..=rng.below(4) {
            text = mutate(&mut rng, &text);
        }
        match import_plan(&text, "fuzz", &registry) {
            Ok(plan) => {
                ok += 1;
                assert!(
                    plan.tasks().all(|t| !t.responsibilities.is_empty()),
                    "a task without agencies slipped through"
                );
            }
            Err(Error::Validation { .. }) => rejected += 1,
            Err(other) => panic!("unexpected error kind for input {i}: {other}"),
        }
    }
    for seed in &seeds[1..] {
        let _ = import_plan(seed, "corpus", &registry);
    }
    assert_eq!(ok + rejected, iterations);
}
