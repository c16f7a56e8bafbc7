//! The parsed-document cache: a GraphQL document is checked against the limits and parsed once,
//! and every later request with the same text reuses that parse (`Request::set_parsed_query`).
//! Only parsing is cached: validation and pricing depend on the variables and run on every
//! request. Entries are keyed by the SHA-256 of the text, so the same map also answers Apollo's
//! automatic persisted queries (`http/persisted.rs`), and bounded by the memory their parses may
//! take (512 bytes a token of text, plus 1 KiB).

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;
use sha2::{Digest as _, Sha256};

use crate::limits::{LimitExceeded, Limits, check_document, check_shape};

/// What an entry may cost besides its tokens: its key, the map's bookkeeping, the document's
/// root.
const ENTRY_OVERHEAD: usize = 1024;

/// The most one token of text can cost once parsed. Measured (a counting allocator, release
/// build): the dashboard query, 84 bytes and 22 tokens, parses into 4,360 bytes (198 a token),
/// and GraphiQL's Dashboard example, 649 bytes, into 9,164 (about 75 a token); a field name alone
/// (`{ a a a … }`) is the dearest token, at 300–480 bytes. So the budget bounds the memory held
/// even for documents made to be expensive, while ordinary ones count several times their size.
const BYTES_PER_TOKEN: usize = 512;

/// What a parsed document of `tokens` tokens may take in memory, at most.
fn weight(tokens: usize) -> usize {
    tokens.saturating_mul(BYTES_PER_TOKEN).saturating_add(ENTRY_OVERHEAD)
}

/// The SHA-256 of a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryHash([u8; 32]);

impl QueryHash {
    /// The hash of `query`.
    pub fn of(query: &str) -> Self {
        Self(Sha256::digest(query.as_bytes()).into())
    }

    /// A hash written as 64 hexadecimal digits (either case), as Apollo's clients send it.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Self(out))
    }
}

/// Where a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Reused from the cache: not checked or parsed again.
    Cached,
    /// Checked and parsed for this request, then kept.
    Parsed,
}

impl Source {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cached => "hit",
            Self::Parsed => "miss",
        }
    }
}

/// Why a document could not be had.
#[derive(Debug)]
pub enum DocumentError {
    /// It is over a limit (checked before parsing, or on the parsed shape).
    Limit(LimitExceeded),
    /// It is not GraphQL: the parser's error, as async-graphql would have reported it.
    Syntax(ServerError),
}

/// A bounded, least-recently-used map from a document's hash to its parse.
pub struct DocumentCache {
    inner: Mutex<Inner>,
    /// Most bytes the held parses may take, by [`weight`]; 0 keeps nothing.
    budget: usize,
}

struct Inner {
    entries: LruCache<QueryHash, Entry>,
    held: usize,
}

struct Entry {
    document: Arc<ExecutableDocument>,
    weight: usize,
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("DocumentCache")
            .field("entries", &inner.entries.len())
            .field("held", &inner.held)
            .field("budget", &self.budget)
            .finish()
    }
}

impl DocumentCache {
    /// A cache whose parses take at most `budget` bytes, each counted at the most it can take.
    pub fn new(budget: usize) -> Self {
        Self { inner: Mutex::new(Inner { entries: LruCache::unbounded(), held: 0 }), budget }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The document registered under `hash`, if it is still held.
    pub fn get(&self, hash: &QueryHash) -> Option<Arc<ExecutableDocument>> {
        self.lock().entries.get(hash).map(|e| e.document.clone())
    }

    /// The parsed document for `query`: from the cache, or checked against `limits` (the raw
    /// text, then the parsed shape), parsed and kept. A document over a limit or not GraphQL is
    /// never kept, so a hit needs no check again (the limits do not change while serving).
    ///
    /// # Errors
    /// The limit it exceeds, or the parser's error.
    pub fn document(&self, query: &str, limits: &Limits) -> Result<(Arc<ExecutableDocument>, Source), DocumentError> {
        self.document_with_hash(QueryHash::of(query), query, limits)
    }

    /// [`Self::document`] when the caller already knows the text's hash.
    ///
    /// # Errors
    /// As [`Self::document`].
    pub fn document_with_hash(
        &self,
        hash: QueryHash,
        query: &str,
        limits: &Limits,
    ) -> Result<(Arc<ExecutableDocument>, Source), DocumentError> {
        if let Some(document) = self.get(&hash) {
            return Ok((document, Source::Cached));
        }
        let tokens = check_document(query, limits).map_err(DocumentError::Limit)?;
        let document =
            async_graphql::parser::parse_query(query).map_err(|e| DocumentError::Syntax(ServerError::from(e)))?;
        check_shape(&document, limits).map_err(DocumentError::Limit)?;
        let document = Arc::new(document);
        self.keep(hash, document.clone(), weight(tokens));
        Ok((document, Source::Parsed))
    }

    /// Keeps `document`, dropping the least recently used ones until it fits the budget.
    fn keep(&self, hash: QueryHash, document: Arc<ExecutableDocument>, weight: usize) {
        if weight > self.budget {
            return;
        }
        let mut inner = self.lock();
        // Two requests may have parsed the same new document at once: keep one copy.
        if let Some(old) = inner.entries.pop(&hash) {
            inner.held -= old.weight;
        }
        while inner.held + weight > self.budget {
            let Some((_, old)) = inner.entries.pop_lru() else { break };
            inner.held -= old.weight;
        }
        inner.held += weight;
        inner.entries.put(hash, Entry { document, weight });
    }

    /// How many documents are held, and their weight in bytes.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.held)
    }
}

/// The default budget: 8 MiB, about 700 documents the size of the dashboard query or 130 of
/// GraphiQL's largest example — every document a real client sends, many times over — and all a
/// caller sending endless distinct documents can make the process keep.
pub const DEFAULT_BUDGET: usize = 8 << 20;

impl Default for DocumentCache {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DASHBOARD: &str = "{ tasks(first: 106) { nodes { number text responsibilities { agency { name } } } } }";

    #[test]
    fn a_document_is_parsed_once_then_reused() {
        let cache = DocumentCache::default();
        let limits = Limits::default();
        let (first, source) = cache.document(DASHBOARD, &limits).expect("parses");
        assert_eq!(source, Source::Parsed);
        let (second, source) = cache.document(DASHBOARD, &limits).expect("cached");
        assert_eq!(source, Source::Cached);
        assert!(Arc::ptr_eq(&first, &second), "the same parse is handed out again");
        let (_, source) = cache.document("{ plan { id } }", &limits).expect("parses");
        assert_eq!(source, Source::Parsed, "another text is another document");
    }

    #[test]
    fn documents_over_a_limit_or_broken_are_never_kept() {
        let cache = DocumentCache::default();
        let limits = Limits { max_aliases: 1, ..Limits::default() };
        for _ in 0..2 {
            let aliased = cache.document("{ a: plan { id } b: plan { id } }", &limits);
            assert!(matches!(aliased, Err(DocumentError::Limit(ref e)) if e.limit == "maxAliases"), "{aliased:?}");
            let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
            assert!(matches!(cache.document(&deep, &limits), Err(DocumentError::Limit(_))));
            assert!(matches!(cache.document("{ plan {", &limits), Err(DocumentError::Syntax(_))));
        }
        assert_eq!(cache.usage().0, 0);
    }

    #[test]
    fn the_budget_evicts_the_least_recently_used() {
        let limits = Limits::default();
        let doc = |i: usize| format!("{{ task(number: {i}) {{ text }} }}");
        let weight = weight(check_document(&doc(10), &limits).expect("within the limits"));
        assert_eq!(weight, 11 * BYTES_PER_TOKEN + ENTRY_OVERHEAD, "{{ task ( number : 10 ) {{ text }} }}");
        let cache = DocumentCache::new(3 * weight);
        for i in 10..13 {
            cache.document(&doc(i), &limits).expect("parses");
        }
        // Touch 10, so 11 is the least recently used when 13 comes in.
        assert_eq!(cache.document(&doc(10), &limits).expect("cached").1, Source::Cached);
        cache.document(&doc(13), &limits).expect("parses");
        assert_eq!(cache.usage(), (3, 3 * weight));
        assert!(cache.get(&QueryHash::of(&doc(11))).is_none(), "11 was evicted");
        for i in [10, 12, 13] {
            assert!(cache.get(&QueryHash::of(&doc(i))).is_some(), "{i} is kept");
        }
        let none = DocumentCache::new(0);
        assert_eq!(none.document(&doc(10), &limits).expect("parses").1, Source::Parsed);
        assert_eq!(none.document(&doc(10), &limits).expect("parses").1, Source::Parsed, "a 0 budget keeps nothing");
    }

    #[test]
    fn hashes_are_sha256_in_hex() {
        // The hash Apollo's clients send for `{ value }` (async-graphql's own APQ test).
        let hex = "854174ebed716fe24fd6659c30290aecd9bc1d17dc4f47939a1848a1b8ed3c6b";
        assert_eq!(QueryHash::from_hex(hex), Some(QueryHash::of("{ value }")));
        assert_eq!(QueryHash::from_hex(&hex.to_uppercase()), Some(QueryHash::of("{ value }")));
        assert_eq!(QueryHash::from_hex(&hex[1..]), None);
        assert_eq!(QueryHash::from_hex(&format!("{}zz", &hex[2..])), None);
        assert_eq!(QueryHash::from_hex(&"é".repeat(32)), None);
    }

    /// What the cache saves is real only if async-graphql does not parse a request whose parse
    /// was set: a text that is not GraphQL at all runs, because only its set parse is read.
    #[tokio::test]
    async fn a_set_parse_is_not_parsed_again_by_async_graphql() {
        struct Root;
        #[async_graphql::Object]
        impl Root {
            /// A constant.
            async fn value(&self) -> i32 {
                100
            }
        }
        let schema = async_graphql::Schema::new(Root, async_graphql::EmptyMutation, async_graphql::EmptySubscription);
        let (document, _) = DocumentCache::default().document("{ value }", &Limits::default()).expect("parses");
        let mut request = async_graphql::Request::new("this is not GraphQL");
        request.set_parsed_query((*document).clone());
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(response.data.to_string(), "{value: 100}");
    }
}
