//! Property-based fuzzing of the request pre-checks: they never panic, and whatever they let
//! through parses without exhausting a worker thread's stack. Mutates generated documents and
//! the kept corpus (`fuzz/corpus/prechecks`).

use workplan_api::limits::{Limits, check_document};

/// SplitMix64, as in the demo generator: seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn corpus() -> Vec<String> {
    let mut seeds = vec![
        "{ plan { title } sections { numeral tasks(first: 5) { nodes { number } } } }".to_owned(),
        "query Q($n: Int!) { task(number: $n) { leadAgencies { name } } }".to_owned(),
        "mutation { submitProgressReport(input: { taskNumber: 1, period: \"2016\", status: ONGOING, summary: \"x\" }) { report { id } } }".to_owned(),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/prechecks");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                seeds.push(text);
            }
        }
    }
    seeds
}

fn mutate(rng: &mut Rng, doc: &str) -> String {
    let pieces = ["{", "}", "[", "]", "(", ")", "\"", "\"\"\"", "#", "\n", "\\", "a", ":", "$v", "...", "@skip", "é"];
    let mut out: Vec<char> = doc.chars().collect();
    for _ in 0..=rng.below(6) {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 => {
                let piece = pieces[rng.below(pieces.len())];
                let times = if rng.below(4) == 0 { rng.below(200) } else { 1 };
                let insert: Vec<char> = piece.repeat(times).chars().collect();
                out.splice(at..at, insert);
            }
            1 => {
                let end = (at + rng.below(20)).min(out.len());
                out.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(50)).min(out.len());
                let copy: Vec<char> = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
        }
    }
    out.into_iter().collect()
}

#[test]
fn prechecks_never_panic_and_what_passes_parses_safely() {
    let limits = Limits::default();
    let iterations = env_u64("WORKPLAN_FUZZ_ITERATIONS", 300);
    let mut rng = Rng(env_u64("WORKPLAN_FUZZ_SEED", 2016));
    let seeds = corpus();
    let mut passed = Vec::new();
    for i in 0..iterations as usize {
        let doc = mutate(&mut rng, &seeds[i % seeds.len()]);
        if check_document(&doc, &limits).is_ok() {
            passed.push(doc);
        }
    }
    passed.extend(seeds.iter().filter(|s| check_document(s, &limits).is_ok()).cloned());
    // Parse everything that passed on a thread with a worker's stack: an overflow would abort
    // the test process, failing it.
    let parsed = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || passed.iter().filter(|d| async_graphql::parser::parse_query(d.as_str()).is_ok()).count())
        .expect("thread")
        .join()
        .expect("the parser survived every document the pre-checks let through");
    assert!(parsed > 0, "some mutated documents are still valid GraphQL");
}
