//! Request limits: every dimension of a request is bounded, and the cheap checks run before the
//! GraphQL parser sees the document (the parser recurses, so deep nesting must never reach it).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, Request, ServerError, ServerResult, ValidationResult, Variables};

use crate::error::code;

/// The limits, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Longest GraphQL document, in bytes.
    pub max_document_bytes: usize,
    /// Most lexical tokens in a document.
    pub max_tokens: usize,
    /// Deepest nesting of `{`, `[` and `(` in a document, and of arrays and objects in variables.
    /// (async-graphql's parser overflows a 2 MiB stack — aborting the process — at about 1,500
    /// nested list values in release builds and 400 in debug builds.)
    pub max_nesting: usize,
    /// Deepest selection.
    pub max_depth: usize,
    /// Highest cost of an operation (see [`crate::cost`]: a field costs 1; a list costs the
    /// most items it can really return times what each item selects).
    pub max_complexity: usize,
    /// Most aliases in a document.
    pub max_aliases: usize,
    /// Most fields at the root of an operation.
    pub max_root_fields: usize,
    /// Most directives on one field or fragment.
    pub max_directives: usize,
    /// Longest a request may run.
    pub request_timeout: Duration,
    /// Longest the client may take to send a request body, from the end of its headers
    /// (408 beyond): a slow sender holds a connection no longer than this.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_document_bytes: 64 * 1024,
            max_tokens: 10_000,
            max_nesting: 64,
            max_depth: 16,
            max_complexity: 150_000,
            max_aliases: 64,
            max_root_fields: 32,
            max_directives: 8,
            request_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// A request that exceeds a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitExceeded {
    /// Which limit (e.g. `maxNesting`), for `extensions.limit`.
    pub limit: &'static str,
    /// What is wrong.
    pub message: String,
}

fn exceeded(limit: &'static str, message: String) -> LimitExceeded {
    LimitExceeded { limit, message }
}

/// Checks the raw document before parsing: size, NUL, tokens and bracket nesting. Linear in the
/// document's length and never recursive. Returns the number of tokens.
pub fn check_document(query: &str, limits: &Limits) -> Result<usize, LimitExceeded> {
    if query.len() > limits.max_document_bytes {
        return Err(exceeded("maxDocumentBytes", format!("the document is over {} bytes", limits.max_document_bytes)));
    }
    if query.contains('\0') {
        return Err(exceeded("noNul", "the document contains a NUL character".into()));
    }
    let bytes = query.as_bytes();
    let (mut depth, mut tokens, mut i) = (0usize, 0usize, 0usize);
    let mut in_word = false;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                i = comment_end(bytes, i);
                in_word = false;
                continue;
            }
            b'"' => {
                tokens += 1;
                in_word = false;
                i = string_end(bytes, i);
                continue;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                tokens += 1;
                in_word = false;
                if depth > limits.max_nesting {
                    return Err(exceeded(
                        "maxNesting",
                        format!("the document nests deeper than {}", limits.max_nesting),
                    ));
                }
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                tokens += 1;
                in_word = false;
            }
            b' ' | b'\t' | b'\n' | b'\r' | b',' => in_word = false,
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' || c >= 0x80 => {
                if !in_word {
                    tokens += 1;
                    in_word = true;
                }
            }
            _ => {
                tokens += 1;
                in_word = false;
            }
        }
        if tokens > limits.max_tokens {
            return Err(exceeded("maxTokens", format!("the document has more than {} tokens", limits.max_tokens)));
        }
        i += 1;
    }
    Ok(tokens)
}

/// Where the comment starting at `i` ends (at its newline, or the end of the text).
fn comment_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

/// Just past the string (or block string) starting at `i`; escapes skip the next byte.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    if bytes[i..].starts_with(b"\"\"\"") {
        i += 3;
        while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        i + 3
    } else {
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    }
}

/// Checks variables: nesting depth and NUL in strings (PostgreSQL refuses NUL in text).
pub fn check_variables(value: &serde_json::Value, limits: &Limits) -> Result<(), LimitExceeded> {
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        if depth > limits.max_nesting {
            return Err(exceeded("maxNesting", format!("the variables nest deeper than {}", limits.max_nesting)));
        }
        match v {
            serde_json::Value::String(s) if s.contains('\0') => {
                return Err(exceeded("noNul", "a variable contains a NUL character".into()));
            }
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    if k.contains('\0') {
                        return Err(exceeded("noNul", "a variable name contains a NUL character".into()));
                    }
                    stack.push((item, depth + 1));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn count_aliases(set: &Positioned<SelectionSet>, count: &mut usize) {
    // Iterative, so a (pre-checked) deep document cannot blow the stack here either.
    let mut stack = vec![set];
    while let Some(set) = stack.pop() {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    if f.node.alias.is_some() {
                        *count += 1;
                    }
                    stack.push(&f.node.selection_set);
                }
                Selection::InlineFragment(f) => stack.push(&f.node.selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// Checks the parsed document: aliases and root fields.
pub fn check_shape(doc: &ExecutableDocument, limits: &Limits) -> Result<(), LimitExceeded> {
    let mut aliases = 0;
    for (_, op) in doc.operations.iter() {
        let roots = op.node.selection_set.node.items.len();
        if roots > limits.max_root_fields {
            return Err(exceeded(
                "maxRootFields",
                format!("an operation selects more than {} root fields", limits.max_root_fields),
            ));
        }
        count_aliases(&op.node.selection_set, &mut aliases);
    }
    for fragment in doc.fragments.values() {
        count_aliases(&fragment.node.selection_set, &mut aliases);
    }
    if aliases > limits.max_aliases {
        return Err(exceeded("maxAliases", format!("the document uses more than {} aliases", limits.max_aliases)));
    }
    Ok(())
}

/// The async-graphql extension that prices each operation ([`crate::cost`]), refuses one that
/// costs more than [`Limits::max_complexity`] (BAD_USER_INPUT, with `extensions.cost` and
/// `extensions.limit`), and charges the rest to the caller's rate-limit bucket.
pub struct LimitsExtension {
    max_cost: u64,
}

impl LimitsExtension {
    /// The extension enforcing `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self { max_cost: u64::try_from(limits.max_complexity).unwrap_or(u64::MAX) }
    }
}

impl ExtensionFactory for LimitsExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PricedRequest { max_cost: self.max_cost, priced: Mutex::default() })
    }
}

/// One request, as the hooks learn about it: the operation it runs, then what that costs.
#[derive(Default)]
struct Priced {
    operation: Option<String>,
    cost: Option<u64>,
}

struct PricedRequest {
    max_cost: u64,
    priced: Mutex<Priced>,
}

impl PricedRequest {
    fn priced(&self) -> std::sync::MutexGuard<'_, Priced> {
        self.priced.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl Extension for PricedRequest {
    /// Prices the operation as a whole: no hook on each field, so fields resolve directly
    /// (the vendored async-graphql's `resolves_fields`, vendor/async-graphql/README.workplan.md).
    fn resolves_fields(&self) -> bool {
        false
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = next.run(ctx, request).await?;
        self.priced().operation.clone_from(&request.operation_name);
        Ok(request)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut priced = self.priced();
        let cost = crate::cost::operation_cost(&ctx.schema_env.registry, &doc, variables, priced.operation.as_deref());
        priced.cost = Some(cost);
        Ok(doc)
    }

    /// Judged once the document is known to be valid, so a broken query is told what is wrong
    /// with it rather than what it would cost.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let cost = self.priced().cost.unwrap_or(1);
        if cost > self.max_cost {
            let message = format!("the query is too complex: it costs {cost}, over the limit of {}", self.max_cost);
            let mut error = ServerError::new(message, None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", code::BAD_USER_INPUT);
            extensions.set("cost", cost);
            extensions.set("limit", self.max_cost);
            error.extensions = Some(extensions);
            return Err(vec![error]);
        }
        crate::rate::charge(ctx, cost).map_err(|e| vec![e])?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_tokens_and_nul() {
        let l = Limits::default();
        assert_eq!(check_document("{ plan { id } }", &l), Ok(6));
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert_eq!(check_document(&deep, &l).map_err(|e| e.limit), Err("maxNesting"));
        // Brackets inside strings and comments do not count.
        let quoted = format!("{{ a(x: \"{}\") }} # {}", "[".repeat(100), "{".repeat(100));
        assert!(check_document(&quoted, &l).is_ok());
        let block = format!("{{ a(x: \"\"\"{}\"\"\") }}", "(".repeat(100));
        assert!(check_document(&block, &l).is_ok());
        let many = "{ ".to_owned() + &"a ".repeat(20_000) + "}";
        assert_eq!(check_document(&many, &l).map_err(|e| e.limit), Err("maxTokens"));
        assert_eq!(check_document("{ a\0 }", &l).map_err(|e| e.limit), Err("noNul"));
        let big = "#".repeat(70_000);
        assert_eq!(check_document(&big, &l).map_err(|e| e.limit), Err("maxDocumentBytes"));
    }

    #[test]
    fn variables() {
        let l = Limits::default();
        let mut v = serde_json::json!(1);
        for _ in 0..100 {
            v = serde_json::json!([v]);
        }
        assert_eq!(check_variables(&v, &l).map_err(|e| e.limit), Err("maxNesting"));
        assert_eq!(check_variables(&serde_json::json!({ "a": "x\u{0}" }), &l).map_err(|e| e.limit), Err("noNul"));
        assert!(check_variables(&serde_json::json!({ "a": ["ok", { "b": 1 }] }), &l).is_ok());
    }

    #[test]
    fn aliases_and_roots() {
        let l = Limits::default();
        let aliased =
            format!("{{ {} }}", (0..70).map(|i| format!("a{i}: plan {{ id }}")).collect::<Vec<_>>().join(" "));
        let doc = async_graphql::parser::parse_query(&aliased).expect("parses");
        assert_eq!(check_shape(&doc, &l).map_err(|e| e.limit), Err("maxRootFields"));
        let nested = format!("{{ plan {{ {} }} }}", (0..70).map(|i| format!("a{i}: id")).collect::<Vec<_>>().join(" "));
        let doc = async_graphql::parser::parse_query(&nested).expect("parses");
        assert_eq!(check_shape(&doc, &l).map_err(|e| e.limit), Err("maxAliases"));
    }
}
