//! Responses keep the order the fields were asked in, at every level and on every run (the GraphQL
//! spec's "Serialized Map Ordering"). Upstream async-graphql 7.2.1 inserts fields in the order they
//! finish, so this depends on the patch in `vendor/async-graphql`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::json;
use workplan_tests::TestApp;

const RUNS: usize = 50;

/// Wide on purpose: fields that wait on the database (loaders, counts, pages) stand before fields
/// that are ready at once, so completion order and selection order differ at most levels. It uses
/// named and inline fragments (on the concrete type, on an interface, on the root), aliases, a
/// response key asked twice (`t20`, merged into its first position), `@skip`/`@include` on fields
/// and a fragment, lists of objects and `__typename`.
const QUERY: &str = r"
query FieldOrder($yes: Boolean!, $no: Boolean!, $agency: ID!) {
  heavy: tasks(first: 30) { totalCount ...TaskPage pageInfo { hasNextPage endCursor } }
  provinces { code name nameZh kind id }
  viewer { role authenticated name agency { name } }
  ... on Query {
    t20: task(number: 20) { ...TaskDetail }
    skipped: plan @skip(if: $yes) { title }
    plan @include(if: $yes) { taskCount title agencyCount sections { numeral title } }
  }
  sections {
    tasks(first: 5) { totalCount nodes { number } }
    title
    subsections { tasks(first: 3) { nodes { number text } } title numeral }
    numeral
    __typename
  }
  agencies(first: 10) { pageInfo { hasNextPage } nodes { ...AgencyBits nameZh aliases } }
  n: node(id: $agency) { __typename ... on Agency { name id } ... on Task { number } id }
  t20Again: task(number: 20) { number text }
  t20: task(number: 20) { text number @include(if: $no) id }
  never: viewer @include(if: $no) { role }
  ...Skipped @skip(if: $yes)
  last: __typename
}
fragment TaskPage on TaskConnection { edges { cursor node { ...TaskDetail } } }
fragment TaskDetail on Task {
  responsibilities { position agency { abbreviation name taskCount } role }
  number
  latestReport { id }
  ... on Task { leadAgencies { ...AgencyBits } }
  responsibilityMode @skip(if: $yes)
  section { title numeral }
  text
}
fragment AgencyBits on Agency { taskCount name leadTaskCount id }
fragment Skipped on Query { skippedToo: plan { title } }
";

/// Every object in the answer, by path (list indices dropped), and its keys in selection order.
/// `latestReport` and `viewer.agency` are null on a fresh database, so they have no entry.
const EXPECTED: &[(&str, &[&str])] = &[
    ("", &["heavy", "provinces", "viewer", "t20", "plan", "sections", "agencies", "n", "t20Again", "last"]),
    ("heavy", &["totalCount", "edges", "pageInfo"]),
    ("heavy.edges", &["cursor", "node"]),
    ("heavy.edges.node", TASK_DETAIL),
    ("heavy.edges.node.responsibilities", &["position", "agency", "role"]),
    ("heavy.edges.node.responsibilities.agency", &["abbreviation", "name", "taskCount"]),
    ("heavy.edges.node.leadAgencies", AGENCY_BITS),
    ("heavy.edges.node.section", &["title", "numeral"]),
    ("heavy.pageInfo", &["hasNextPage", "endCursor"]),
    ("provinces", &["code", "name", "nameZh", "kind", "id"]),
    ("viewer", &["role", "authenticated", "name", "agency"]),
    ("t20", &["responsibilities", "number", "latestReport", "leadAgencies", "section", "text", "id"]),
    ("t20.responsibilities", &["position", "agency", "role"]),
    ("t20.responsibilities.agency", &["abbreviation", "name", "taskCount"]),
    ("t20.leadAgencies", AGENCY_BITS),
    ("t20.section", &["title", "numeral"]),
    ("plan", &["taskCount", "title", "agencyCount", "sections"]),
    ("plan.sections", &["numeral", "title"]),
    ("sections", &["tasks", "title", "subsections", "numeral", "__typename"]),
    ("sections.tasks", &["totalCount", "nodes"]),
    ("sections.tasks.nodes", &["number"]),
    ("sections.subsections", &["tasks", "title", "numeral"]),
    ("sections.subsections.tasks", &["nodes"]),
    ("sections.subsections.tasks.nodes", &["number", "text"]),
    ("agencies", &["pageInfo", "nodes"]),
    ("agencies.pageInfo", &["hasNextPage"]),
    ("agencies.nodes", &["taskCount", "name", "leadTaskCount", "id", "nameZh", "aliases"]),
    ("n", &["__typename", "name", "id"]),
    ("t20Again", &["number", "text"]),
];
const TASK_DETAIL: &[&str] = &["responsibilities", "number", "latestReport", "leadAgencies", "section", "text"];
const AGENCY_BITS: &[&str] = &["taskCount", "name", "leadTaskCount", "id"];

#[tokio::test]
async fn responses_keep_the_selection_order_at_every_level() {
    let app = TestApp::spawn().await;
    let agency = app.data("{ agencies(first: 1) { nodes { id } } }", json!({})).await["agencies"]["nodes"][0]["id"]
        .as_str()
        .expect("an agency id")
        .to_owned();
    let variables = json!({ "yes": true, "no": false, "agency": agency });
    let expected: BTreeMap<String, Vec<String>> = EXPECTED
        .iter()
        .map(|(path, keys)| ((*path).to_owned(), keys.iter().map(|k| (*k).to_owned()).collect()))
        .collect();

    let mut failures = Vec::new();
    let mut root_orders = BTreeSet::new();
    for run in 1..=RUNS {
        let data = answer(&app, &variables).await;
        let mut seen = BTreeMap::new();
        collect_orders(&data, "", &mut seen);
        root_orders.insert(seen.get("").and_then(|orders| orders.first().cloned()).unwrap_or_default());
        for mismatch in mismatches(&expected, &seen) {
            failures.push(format!("run {run}: {mismatch}"));
        }
    }
    let disordered_runs = failures.iter().map(|f| f.split(':').next().unwrap_or_default()).collect::<BTreeSet<_>>();
    assert!(
        failures.is_empty(),
        "{} of {RUNS} runs came back out of selection order ({} mismatching objects in all; {} distinct root \
         key orders); first mismatches:\n{}",
        disordered_runs.len(),
        failures.len(),
        root_orders.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n"),
    );
}

/// Sends [`QUERY`] and returns `data`, parsed from the raw body so key order survives.
async fn answer(app: &TestApp, variables: &serde_json::Value) -> Ordered {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin)
        .json(&json!({ "query": QUERY, "variables": variables }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "status");
    let body = response.text().await.expect("body");
    let Ok(Ordered::Object(mut entries)) = serde_json::from_str::<Ordered>(&body) else {
        panic!("the body is not a JSON object: {body}");
    };
    assert_eq!(entries.len(), 1, "expected only `data`: {body}");
    let (key, data) = entries.remove(0);
    assert_eq!(key, "data", "expected only `data`: {body}");
    data
}

/// Records, for every object under `value`, its key order under its path (`a.b.c`).
fn collect_orders(value: &Ordered, path: &str, seen: &mut BTreeMap<String, Vec<Vec<String>>>) {
    match value {
        Ordered::Object(entries) => {
            seen.entry(path.to_owned()).or_default().push(entries.iter().map(|(key, _)| key.clone()).collect());
            for (key, child) in entries {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                collect_orders(child, &child_path, seen);
            }
        }
        Ordered::List(items) => items.iter().for_each(|item| collect_orders(item, path, seen)),
        Ordered::Scalar => {}
    }
}

/// Every object whose keys differ from [`EXPECTED`], and every path present on one side only.
fn mismatches(expected: &BTreeMap<String, Vec<String>>, seen: &BTreeMap<String, Vec<Vec<String>>>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, want) in expected {
        match seen.get(path) {
            None => out.push(format!("no object at `{path}`")),
            Some(orders) => out.extend(
                orders.iter().filter(|got| *got != want).map(|got| format!("`{path}` is {got:?}, asked {want:?}")),
            ),
        }
    }
    out.extend(seen.keys().filter(|path| !expected.contains_key(*path)).map(|path| format!("unexpected `{path}`")));
    out
}

/// A JSON value that keeps its objects' key order. serde_json's `Value` sorts keys unless its
/// `preserve_order` feature is on, and feature unification would turn that on for every crate
/// built with the tests.
enum Ordered {
    Object(Vec<(String, Ordered)>),
    List(Vec<Ordered>),
    Scalar,
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Ordered::Object(entries))
    }
}
