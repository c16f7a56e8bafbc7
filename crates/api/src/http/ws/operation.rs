//! The operations one connection runs: each in a task of its own, through the path HTTP takes
//! ([`crate::http::execute`]); and the connection's book of them, which refuses a duplicate id
//! and holds the caps on operations in flight and subscriptions open.

use std::collections::HashMap;
use std::net::IpAddr;

use async_graphql::ServerError;
use futures::StreamExt as _;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use workplan_domain::access::Viewer;

use super::protocol::ServerMessage;
use crate::error::code;
use crate::http::AppState;
use crate::http::execute::{Ran, busy_error, execute_operation, execute_stream, timed_out_error, with_code};
use crate::http::persisted::Resolved;
use crate::http::respond::{JSON, Payload, classify};
use crate::socket_limits::SocketLimits;

/// What an operation's task tells its connection. `run` tells runs under one id apart: a message
/// of a run that was stopped since is never written.
#[derive(Debug)]
pub(super) enum Event {
    /// A `next` message for run `run` of operation `id`.
    Next { id: String, run: u64, text: String },
    /// Run `run` of operation `id` ended: `complete` is written and the id is free again.
    Complete { id: String, run: u64 },
}

/// Whether an operation is a query or mutation, or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A query or mutation: one answer, soon.
    Operation,
    /// A subscription: answers until it ends or is stopped.
    Subscription,
}

/// Why an operation may not start.
#[derive(Debug)]
pub(super) enum Refused {
    /// Its id is in use (the connection is closed).
    Duplicate,
    /// The connection's cap for its kind is reached: answered with this error.
    Capped(ServerError),
}

/// A running operation.
struct Entry {
    run: u64,
    kind: Kind,
    task: Option<AbortHandle>,
}

/// The operations a connection runs, by id.
pub(super) struct Operations {
    limits: SocketLimits,
    running: HashMap<String, Entry>,
    runs: u64,
}

impl Operations {
    /// None running, under `limits`.
    pub(super) fn new(limits: SocketLimits) -> Self {
        Self { limits, running: HashMap::new(), runs: 0 }
    }

    /// Whether `id` is in use.
    pub(super) fn contains(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    /// Takes `id` for a new run of `kind`, or says why not; the run's number on success.
    pub(super) fn admit(&mut self, id: &str, kind: Kind) -> Result<u64, Refused> {
        if self.contains(id) {
            return Err(Refused::Duplicate);
        }
        let open = self.running.values().filter(|e| e.kind == kind).count();
        let (cap, what) = match kind {
            Kind::Operation => (self.limits.max_operations, "queries and mutations in flight"),
            Kind::Subscription => (self.limits.max_subscriptions, "subscriptions open"),
        };
        if open >= cap {
            let message = format!(
                "too many {what} on this connection (at most {cap}): wait for one to complete, or open another connection"
            );
            return Err(Refused::Capped(with_code(ServerError::new(message, None), code::RATE_LIMITED)));
        }
        self.runs += 1;
        self.running.insert(id.to_owned(), Entry { run: self.runs, kind, task: None });
        Ok(self.runs)
    }

    /// Attaches the task of run `run` of `id`, so that stopping it stops the task.
    pub(super) fn attach(&mut self, id: &str, run: u64, task: AbortHandle) {
        match self.running.get_mut(id) {
            Some(entry) if entry.run == run => entry.task = Some(task),
            _ => task.abort(),
        }
    }

    /// Whether run `run` of `id` is still on (its messages are to be written).
    pub(super) fn is_on(&self, id: &str, run: u64) -> bool {
        self.running.get(id).is_some_and(|e| e.run == run)
    }

    /// Run `run` of `id` ended by itself: whether it was still on (its `complete` is written).
    pub(super) fn finish(&mut self, id: &str, run: u64) -> bool {
        if self.is_on(id, run) {
            self.running.remove(id);
            true
        } else {
            false
        }
    }

    /// Stops `id` (the client's `complete`); nothing more is written for it.
    pub(super) fn stop(&mut self, id: &str) {
        if let Some(task) = self.running.remove(id).and_then(|e| e.task) {
            task.abort();
        }
    }

    /// Stops every operation; their ids.
    pub(super) fn stop_all(&mut self) -> Vec<String> {
        self.running
            .drain()
            .map(|(id, entry)| {
                if let Some(task) = entry.task {
                    task.abort();
                }
                id
            })
            .collect()
    }
}

/// One operation to run for a connection.
pub(super) struct Job {
    /// The operation's id.
    pub(super) id: String,
    /// Which run of the id.
    pub(super) run: u64,
    /// Query or mutation, or subscription.
    pub(super) kind: Kind,
    /// The caller as checked just before.
    pub(super) viewer: Viewer,
    /// The client's address.
    pub(super) client: Option<IpAddr>,
    /// The request, without its document.
    pub(super) request: async_graphql::Request,
    /// Its document.
    pub(super) document: Resolved,
}

/// Runs `job` in a task of its own, telling `events` its answers and its end.
pub(super) fn spawn(state: AppState, job: Job, events: mpsc::Sender<Event>) -> AbortHandle {
    tokio::spawn(async move {
        let Job { id, run, kind, viewer, client, request, document } = job;
        let next = |response: &async_graphql::Response| {
            let not_executed = classify(response, JSON).not_executed;
            let text = ServerMessage::Next { id: &id, payload: Payload::of(response, not_executed) }.text();
            Event::Next { id: id.clone(), run, text }
        };
        match kind {
            Kind::Subscription => {
                let mut responses = execute_stream(&state, client, viewer, request, document);
                while let Some(response) = responses.next().await {
                    if events.send(next(&response)).await.is_err() {
                        return;
                    }
                }
            }
            Kind::Operation => {
                let response = match execute_operation(&state, client, viewer, request, document).await {
                    Ran::Answered(response) => *response,
                    Ran::Busy => async_graphql::Response::from_errors(vec![busy_error()]),
                    Ran::TimedOut(timeout) => async_graphql::Response::from_errors(vec![timed_out_error(timeout)]),
                };
                if events.send(next(&response)).await.is_err() {
                    return;
                }
            }
        }
        let _ = events.send(Event::Complete { id, run }).await;
    })
    .abort_handle()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SocketLimits {
        SocketLimits { max_operations: 2, max_subscriptions: 1, ..SocketLimits::default() }
    }

    fn capped(result: Result<u64, Refused>) -> String {
        match result {
            Err(Refused::Capped(error)) => {
                let code = error.extensions.as_ref().and_then(|e| e.get("code").cloned());
                assert_eq!(code, Some(async_graphql::Value::from(code::RATE_LIMITED)));
                error.message
            }
            other => panic!("not capped: {other:?}"),
        }
    }

    #[test]
    fn each_kind_has_its_cap_and_a_finished_run_frees_its_place() {
        let mut ops = Operations::new(limits());
        let a = ops.admit("a", Kind::Operation).expect("first");
        ops.admit("b", Kind::Operation).expect("second");
        assert!(capped(ops.admit("c", Kind::Operation)).contains("at most 2"));
        let s = ops.admit("s", Kind::Subscription).expect("a subscription has its own cap");
        assert!(
            capped(ops.admit("t", Kind::Subscription)).contains("subscriptions open on this connection (at most 1)")
        );
        assert!(ops.finish("a", a));
        ops.admit("c", Kind::Operation).expect("room again");
        ops.stop("s");
        assert!(!ops.is_on("s", s), "a stopped run writes nothing more");
        assert!(!ops.finish("s", s), "and sends no complete");
        ops.admit("t", Kind::Subscription).expect("room again");
    }

    #[test]
    fn an_id_in_use_is_a_duplicate_and_an_old_run_is_not_the_new_one() {
        let mut ops = Operations::new(limits());
        let first = ops.admit("1", Kind::Subscription).expect("first");
        assert!(matches!(ops.admit("1", Kind::Operation), Err(Refused::Duplicate)));
        ops.stop("1");
        let second = ops.admit("1", Kind::Operation).expect("free again");
        assert!(!ops.is_on("1", first) && ops.is_on("1", second));
        assert_eq!(ops.stop_all(), vec!["1".to_owned()]);
        assert!(!ops.contains("1"));
    }
}
