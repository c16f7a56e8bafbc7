//! What an operation costs: a pure function over the parsed document, so a client can be told
//! the number and the limit it went over.
//!
//! Every selected field costs 1 plus what its selections cost; a list multiplies what each item
//! selects by the most items it can really return: a fixed maximum of this plan (6 sections,
//! 7 subsections per section, 17 responsibilities per task, …), or a page (`first` or `last`,
//! else the default) capped by the list's real length. A connection field's page sizes its
//! `nodes` and `edges`. Fragments, inline fragments, aliases and `@skip`/`@include` count as
//! they would execute. The [`SIZES`] table says how each list is sized; a unit test keeps it in
//! step with the schema.

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet, VariableDefinition,
};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{Name, Positioned, Value, Variables};

mod sizes;

use sizes::Size::{Fixed, Ids, Page, PageItems};
pub use sizes::{SIZES, Size, size_of};

/// Deeper than this (counting fragment spreads) and an operation is priced at `u64::MAX`: the
/// walk recurses, and a chain of spreads must not exhaust the stack.
const MAX_WALK_DEPTH: usize = 256;

/// The cost of the operation a request runs: the one named `operation_name`, else the only
/// one; with several and no name, the dearest (execution will refuse it anyway). Zero when
/// the named operation does not exist.
pub fn operation_cost(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> u64 {
    let ops: Vec<&Positioned<OperationDefinition>> = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => vec![op],
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).into_iter().collect(),
        (DocumentOperations::Multiple(ops), None) => ops.values().collect(),
    };
    ops.into_iter()
        .map(|op| {
            let root = match op.node.ty {
                async_graphql::parser::types::OperationType::Query => Some(registry.query_type.as_str()),
                async_graphql::parser::types::OperationType::Mutation => registry.mutation_type.as_deref(),
                async_graphql::parser::types::OperationType::Subscription => registry.subscription_type.as_deref(),
            };
            let mut walk = Walk {
                registry,
                fragments: &doc.fragments,
                variables,
                definitions: &op.node.variable_definitions,
                memo: HashMap::new(),
                active: Vec::new(),
                too_deep: false,
            };
            walk.selections(root, &op.node.selection_set.node, None, 0)
        })
        .max()
        .unwrap_or(0)
}

/// One walk over an operation's selections.
struct Walk<'a> {
    registry: &'a Registry,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    definitions: &'a [Positioned<VariableDefinition>],
    /// A fragment costs the same wherever it is spread (for a given page), so each is priced
    /// once: documents that spread fragments in fragments stay linear to price.
    memo: HashMap<(&'a str, Option<u64>), u64>,
    /// The fragments being priced, to stop at a cycle (which validation refuses anyway).
    active: Vec<&'a str>,
    /// Set once the walk passes [`MAX_WALK_DEPTH`]: the operation then costs `u64::MAX`.
    too_deep: bool,
}

impl<'a> Walk<'a> {
    /// The cost of `set`, selected on `parent` (unknown for fields the schema lacks), where
    /// `page` is the page of the connection `set` belongs to, if any.
    fn selections(&mut self, parent: Option<&'a str>, set: &'a SelectionSet, page: Option<u64>, depth: usize) -> u64 {
        if depth > MAX_WALK_DEPTH {
            self.too_deep = true;
        }
        let mut total = 0u64;
        for item in &set.items {
            if self.too_deep || total == u64::MAX {
                return u64::MAX;
            }
            let cost = match &item.node {
                Selection::Field(f) if self.included(&f.node.directives) => self.field(parent, &f.node, page, depth),
                Selection::InlineFragment(f) if self.included(&f.node.directives) => {
                    let on = f.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()).or(parent);
                    self.selections(on, &f.node.selection_set.node, page, depth + 1)
                }
                Selection::FragmentSpread(s) if self.included(&s.node.directives) => {
                    self.spread(s.node.fragment_name.node.as_str(), page, depth)
                }
                _ => 0,
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn field(&mut self, parent: Option<&'a str>, field: &'a Field, page: Option<u64>, depth: usize) -> u64 {
        let name = field.name.node.as_str();
        let ty = parent
            .and_then(|p| self.registry.concrete_type_by_name(p))
            .and_then(|t| t.field_by_name(name))
            .map(|f| MetaTypeName::concrete_typename(&f.ty));
        let (items, child_page) = match parent.and_then(|p| size_of(p, name)) {
            None => (1, None),
            Some(Fixed(n)) => (n, None),
            Some(Page { default, max }) => {
                let asked = self.int(field, "first").or_else(|| self.int(field, "last"));
                let size = asked.map_or(default, |n| u64::try_from(n).unwrap_or(0).max(1));
                (1, Some(size.min(max)))
            }
            Some(Ids { max }) => (self.len(field, "ids").min(max), None),
            // Reached without its connection (which the schema cannot do): the largest page.
            Some(PageItems) => (page.unwrap_or(500), None),
        };
        let children = self.selections(ty, &field.selection_set.node, child_page, depth + 1);
        items.saturating_mul(children).saturating_add(1)
    }

    fn spread(&mut self, name: &'a str, page: Option<u64>, depth: usize) -> u64 {
        if let Some(cost) = self.memo.get(&(name, page)) {
            return *cost;
        }
        let Some(fragment) = self.fragments.get(name) else {
            return 0;
        };
        if self.active.contains(&name) {
            return 0;
        }
        self.active.push(name);
        let on = fragment.node.type_condition.node.on.node.as_str();
        let cost = self.selections(Some(on), &fragment.node.selection_set.node, page, depth + 1);
        self.active.pop();
        self.memo.insert((name, page), cost);
        cost
    }

    /// Whether `@skip`/`@include` let a selection run.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|d| {
            let condition = d.node.get_argument("if").and_then(|v| {
                v.node.clone().into_const_with(|var| Ok::<_, std::convert::Infallible>(self.variable(&var))).ok()
            });
            !matches!(
                (d.node.name.node.as_str(), condition),
                ("skip", Some(Value::Boolean(true))) | ("include", Some(Value::Boolean(false)))
            )
        })
    }

    /// An argument's value with variables filled in (their default when not given; null when
    /// neither).
    fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        let v = field.get_argument(name)?;
        v.node.clone().into_const_with(|var| Ok::<_, std::convert::Infallible>(self.variable(&var))).ok()
    }

    fn int(&self, field: &Field, name: &str) -> Option<i64> {
        match self.argument(field, name)? {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    fn len(&self, field: &Field, name: &str) -> u64 {
        match self.argument(field, name) {
            Some(Value::List(items)) => u64::try_from(items.len()).unwrap_or(u64::MAX),
            Some(Value::Null) | None => 0,
            // A single value where a list is expected is a list of one.
            Some(_) => 1,
        }
    }

    fn variable(&self, name: &str) -> Value {
        self.variables
            .get(name)
            .or_else(|| {
                self.definitions
                    .iter()
                    .find(|d| d.node.name.node.as_str() == name)
                    .and_then(|d| d.node.default_value.as_ref())
                    .map(|v| &v.node)
            })
            .cloned()
            .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::OutputType;
    use serde_json::json;

    use super::*;

    fn registry() -> Registry {
        let mut registry =
            Registry { query_type: "Query".into(), mutation_type: Some("Mutation".into()), ..Default::default() };
        <crate::schema::Query as OutputType>::create_type_info(&mut registry);
        <crate::schema::Mutation as OutputType>::create_type_info(&mut registry);
        // As the schema does: drops the merged roots' parts.
        registry.remove_unused_types();
        registry
    }

    fn named(query: &str, variables: serde_json::Value, operation: Option<&str>) -> u64 {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        operation_cost(&registry(), &doc, &Variables::from_json(variables), operation)
    }

    fn cost(query: &str) -> u64 {
        named(query, json!({}), None)
    }

    /// What one task of the dashboard selects: number, text, responsibilities (role and the
    /// agency's name and abbreviation) and the latest report (three fields).
    const TASK_FIELDS: &str = "number text responsibilities { role agency { name abbreviation } } \
                               latestReport { status percentComplete submittedAt }";
    /// Its cost: 2 scalars + responsibilities (1 + 17 × (role + agency (1 + 2))) + latestReport (1 + 3).
    const TASK_COST: u64 = 2 + (1 + 17 * (1 + 3)) + (1 + 3);

    #[test]
    fn the_dashboard_counts_real_maxima_not_pages() {
        let q = format!(
            "{{ sections {{ numeral title subsections {{ numeral title tasks(first: 200) {{ nodes {{ {TASK_FIELDS} }} }} }} }} }}"
        );
        // tasks(first: 200) of a subsection holds at most 8 tasks.
        let tasks = 1 + (1 + 8 * TASK_COST);
        let subsections = 1 + 7 * (2 + tasks);
        assert_eq!(cost(&q), 1 + 6 * (2 + subsections));
        assert_eq!(cost(&q), 25_387);
        // A section's tasks: at most 32.
        let by_section = format!("{{ sections {{ tasks(first: 200) {{ nodes {{ {TASK_FIELDS} }} }} }} }}");
        assert_eq!(cost(&by_section), 1 + 6 * (1 + (1 + 32 * TASK_COST)));
    }

    #[test]
    fn the_flat_list_counts_at_most_every_task() {
        let q = format!("{{ tasks(first: 200) {{ totalCount nodes {{ {TASK_FIELDS} }} }} }}");
        assert_eq!(cost(&q), 1 + 1 + (1 + 106 * TASK_COST));
        // Smaller pages count what they ask for, and no `first` means the default of 20.
        assert_eq!(cost("{ tasks(first: 5) { nodes { number } } }"), 1 + (1 + 5));
        assert_eq!(cost("{ tasks(last: 7) { edges { cursor node { number } } } }"), 1 + (1 + 7 * (1 + 2)));
        assert_eq!(cost("{ tasks { nodes { number } } }"), 1 + (1 + 20));
        // Fields beside the lists are priced once, not per item.
        assert_eq!(cost("{ tasks(first: 100) { totalCount pageInfo { hasNextPage } } }"), 1 + 1 + 2);
    }

    #[test]
    fn nested_report_lists_multiply() {
        let q = "{ tasks(first: 100) { nodes { reports(first: 100) { nodes { task { reports(first: 100) { nodes { id summary } } } } } } } }";
        let inner = 1 + (1 + 100 * 2);
        let middle = 1 + (1 + 100 * (1 + inner));
        assert_eq!(cost(q), 1 + (1 + 100 * middle));
        assert!(cost(q) > crate::limits::Limits::default().max_complexity as u64);
        // A page over the largest counts as the largest (the resolver refuses it anyway).
        assert_eq!(cost("{ progressReports(first: 1000) { nodes { id } } }"), 1 + (1 + 100));
        let q = "{ agencies(first: 100) { nodes { responsibilities { task { reports { nodes { history { changes { field } } } } } } } } }";
        let history = 1 + 20 * (1 + 10);
        let reports = 1 + (1 + 20 * history);
        assert_eq!(cost(q), 1 + (1 + 42 * (1 + 106 * (1 + reports))));
    }

    #[test]
    fn fragments_aliases_and_skip_count_as_they_execute() {
        let plain = cost("{ tasks(first: 10) { nodes { number text } } }");
        let spread = "{ tasks(first: 10) { ...Page } } fragment Page on TaskConnection { nodes { ...Bits } } \
                      fragment Bits on Task { number text }";
        assert_eq!(cost(spread), plain);
        assert_eq!(cost("{ tasks(first: 10) { ... on TaskConnection { nodes { number ... { text } } } } }"), plain);
        // Each alias runs: twice the work.
        assert_eq!(
            cost("{ a: tasks(first: 10) { nodes { number text } } b: tasks(first: 10) { nodes { number text } } }"),
            2 * plain
        );
        // Skipped selections cost nothing, by literal or by variable.
        let skip = "query($no: Boolean!) { tasks(first: 10) { nodes { number text } } \
                    big: tasks(first: 100) @include(if: $no) { nodes { number } } \
                    ... @skip(if: true) { provinces { code } } }";
        assert_eq!(named(skip, json!({ "no": false }), None), plain);
        assert_eq!(named(skip, json!({ "no": true }), None), plain + 1 + (1 + 100));
        // Abstract types: `nodes` is as long as `ids`; fields of any type in it count.
        let q = "{ nodes(ids: [\"a\", \"b\", \"c\"]) { id ... on Task { responsibilities { role } } } }";
        assert_eq!(cost(q), 1 + 3 * (1 + (1 + 17)));
        // A cycle (which validation refuses) still ends.
        assert!(cost("{ plan { ...A } } fragment A on Plan { id ...B } fragment B on Plan { ...A }") < 10);
    }

    #[test]
    fn variables_size_pages() {
        let q = "query($n: Int, $ids: [ID!]!) { tasks(first: $n) { nodes { number } } nodes(ids: $ids) { id } }";
        let ids = json!(["a", "b"]);
        assert_eq!(named(q, json!({ "n": 50, "ids": ids }), None), (1 + (1 + 50)) + (1 + 2));
        assert_eq!(named(q, json!({ "ids": ids }), None), (1 + (1 + 20)) + (1 + 2), "the field's default");
        let with_default = "query($n: Int = 3) { tasks(first: $n) { nodes { number } } }";
        assert_eq!(named(with_default, json!({}), None), 1 + (1 + 3), "the variable's default");
        assert_eq!(named(with_default, json!({ "n": 200 }), None), 1 + (1 + 106));
    }

    #[test]
    fn the_operation_run_is_the_one_priced() {
        let q = "query Small { plan { id } } query Big { tasks(first: 100) { nodes { number } } }";
        assert_eq!(named(q, json!({}), Some("Small")), 2);
        assert_eq!(named(q, json!({}), Some("Big")), 1 + (1 + 100));
        assert_eq!(named(q, json!({}), None), 1 + (1 + 100), "unnamed: the dearest");
        assert_eq!(named(q, json!({}), Some("Nope")), 0);
        let m = "mutation { syncProgressReports(input: { reports: [] }) { results { index } } }";
        assert_eq!(cost(m), 1 + (1 + 500));
    }

    #[test]
    fn a_long_chain_of_spreads_is_priced_without_exhausting_the_stack() {
        let n = 2_000;
        let mut q = "{ plan { ...F0 } }".to_owned();
        for i in 0..n {
            q.push_str(&format!(" fragment F{i} on Plan {{ id ...F{} }}", i + 1));
        }
        q.push_str(&format!(" fragment F{n} on Plan {{ id }}"));
        assert_eq!(cost(&q), u64::MAX);
        // Fragments spread many times are priced once each: this would take 2^40 steps otherwise.
        let mut q = "{ plan { ...G0 } }".to_owned();
        for i in 0..40 {
            q.push_str(&format!(" fragment G{i} on Plan {{ a: id ...G{j} b: sections {{ id }} ...G{j} }}", j = i + 1));
        }
        q.push_str(" fragment G40 on Plan { id }");
        assert!(cost(&q) > 1 << 40);
        // Past u64::MAX too: saturated fragments are remembered like any other.
        let mut q = "{ plan { ...H0 } }".to_owned();
        for i in 0..200 {
            q.push_str(&format!(" fragment H{i} on Plan {{ ...H{j} ...H{j} }}", j = i + 1));
        }
        q.push_str(" fragment H200 on Plan { id }");
        assert_eq!(cost(&q), u64::MAX);
    }

    #[test]
    fn every_list_is_sized() {
        let registry = registry();
        for (name, ty) in &registry.types {
            let Some(fields) = ty.fields() else { continue };
            if name.starts_with("__") {
                continue;
            }
            for field in fields.values() {
                let item = registry.concrete_type_by_name(&field.ty);
                if field.ty.starts_with('[') && item.is_some_and(async_graphql::registry::MetaType::is_composite) {
                    assert!(size_of(name, &field.name).is_some(), "{name}.{} needs a row in SIZES", field.name);
                }
            }
        }
        for (parent, field, _) in SIZES {
            let exists = registry.concrete_type_by_name(parent).and_then(|t| t.field_by_name(field)).is_some();
            assert!(exists, "SIZES names {parent}.{field}, which the schema lacks");
        }
    }
}
