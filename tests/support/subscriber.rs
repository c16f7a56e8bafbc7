//! The one process-wide tracing subscriber of a test binary: the servers' logs go to the test
//! harness's captured output (a failing test shows the server's own account — an `INTERNAL`
//! answer says only "it has been logged"), and the store's `workplan::sql` events (one per
//! statement, see `crates/persistence/src/store.rs`) can be collected per task by
//! [`statements_of`].
//!
//! One subscriber for both because a process has one global default, and tracing caches per
//! call site which subscribers want an event: subscribers scoped to a future would race that
//! cache between tests running in parallel.

use std::cell::RefCell;
use std::fmt::Debug;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Level;
use tracing::field::{Field, Visit};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// The environment variable that sets the filter of the servers' logs in tests (`warn` unless
/// set; e.g. `info,workplan=debug`).
pub const LOG_ENV: &str = "WORKPLAN_TEST_LOG";

static KEPT_OUT: AtomicBool = AtomicBool::new(false);

/// Keeps this test binary's subscribers its own: [`install`] then does nothing. For a binary
/// whose tests set a thread's default subscriber (`tests/spans`): a span opened under it and
/// entered on another thread would reach a global registry that never saw it open.
pub fn keep_out() {
    KEPT_OUT.store(true, Ordering::SeqCst);
}

/// Installs the subscriber, once per test binary (every server a test starts calls this),
/// unless [`keep_out`] was called.
pub fn install() {
    static INSTALL: Once = Once::new();
    if KEPT_OUT.load(Ordering::SeqCst) {
        return;
    }
    INSTALL.call_once(|| {
        let filter = std::env::var(LOG_ENV).ok().filter(|f| !f.is_empty()).unwrap_or_else(|| "warn".to_owned());
        let logs = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("warn")));
        let statements = Capture.with_filter(Targets::new().with_target("workplan::sql", Level::TRACE));
        // A binary that installed its own global subscriber keeps it.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(logs).with(statements));
    });
}

/// One statement the store ran: its text and how many parameters it bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sql {
    /// The statement's text.
    pub text: String,
    /// How many parameters it bound.
    pub params: u64,
}

impl Visit for Sql {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "sql" {
            self.text = format!("{value:?}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "params" {
            self.params = value;
        }
    }
}

tokio::task_local! {
    /// The statements the store ran in the current task, while [`statements_of`] watches it.
    static RAN: RefCell<Vec<Sql>>;
}

/// Collects the store's `workplan::sql` events into [`RAN`] when the task that ran the
/// statement is being watched.
struct Capture;

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let _unwatched = RAN.try_with(|ran| {
            let mut sql = Sql::default();
            event.record(&mut sql);
            ran.borrow_mut().push(sql);
        });
    }
}

/// What `f` returns, and the statements the store ran for it (in this task only: the servers'
/// own tasks and the other tests are not watched).
pub async fn statements_of<T>(f: impl Future<Output = T>) -> (T, Vec<Sql>) {
    install();
    RAN.scope(RefCell::new(Vec::new()), async {
        let out = f.await;
        (out, RAN.with(RefCell::take))
    })
    .await
}
