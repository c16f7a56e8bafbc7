//! The introspection gate: where introspection is for token holders only (`--production`), an
//! anonymous document that asks for `__schema` or `__type` is refused as a whole — FORBIDDEN,
//! "introspection needs a token", no `data` — rather than answered with a silent null in a
//! non-null field. `__typename` is not introspection and stays allowed.

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::code;

/// Whether `doc` asks for `__schema` or `__type` anywhere (in an operation or a fragment).
pub(super) fn asks_introspection(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().any(|(_, op)| in_selection(&op.node.selection_set.node))
        || doc.fragments.values().any(|f| in_selection(&f.node.selection_set.node))
}

fn in_selection(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            matches!(field.node.name.node.as_str(), "__schema" | "__type")
                || in_selection(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => in_selection(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

/// The refusal: a request error (no path, so no `data`) with code FORBIDDEN.
pub(super) fn refusal() -> ServerError {
    let mut error = ServerError::new("introspection needs a token", None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code::FORBIDDEN);
    error.extensions = Some(extensions);
    error
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::asks_introspection;

    #[test]
    fn finds_schema_and_type_wherever_they_are_asked_for() {
        for (query, asks) in [
            ("{ __schema { types { name } } }", true),
            ("query Q { tasks(first: 1) { nodes { number } } __type(name: \"Task\") { name } }", true),
            ("{ ...F } fragment F on Query { __schema { queryType { name } } }", true),
            ("{ ... on Query { __type(name: \"Task\") { name } } }", true),
            ("{ __typename tasks(first: 1) { nodes { __typename } } }", false),
        ] {
            let doc = parse_query(query).expect("parses");
            assert_eq!(asks_introspection(&doc), asks, "{query}");
        }
    }
}
