//! The HTTP server: a listener with a long backlog and an accept loop on hyper, with the
//! timeouts and the connection cap `axum::serve` lacks.
//!
//! - At most [`ConnectionLimits::max_connections`] connections are open at once. Beyond them
//!   the loop stops accepting: new connections wait in the listen backlog (and are refused by
//!   the kernel when it is full) instead of exhausting the process's file descriptors, which
//!   `/healthz`, the database pool and the log need too. A connection's turn is held by its
//!   socket, so an upgraded WebSocket keeps it until it closes.
//! - A request's headers must arrive within [`ConnectionLimits::header_read_timeout`] of the
//!   server starting to wait for them (hyper's own timer, which also runs while a kept-alive
//!   connection waits for its next request); a connection that has answered a request and has
//!   none in progress is closed after [`ConnectionLimits::keep_alive_timeout`]. The body has its own timeout
//!   (`Limits::body_timeout`, enforced where the body is read).
//! - An accept error (e.g. `EMFILE`) does not spin: the loop pauses briefly and logs once per
//!   interval how many it met.
//! - On shutdown the loop stops accepting, asks every connection to finish its request in
//!   progress and close, and waits for them (upgraded WebSockets are on their own by then).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt as _;

/// The default for [`ConnectionLimits::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default for [`ConnectionLimits::keep_alive_timeout`].
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default listen backlog (Linux caps it at `net.core.somaxconn`, 4096 since 5.4).
pub const DEFAULT_BACKLOG: u32 = 4096;
/// The most connections by default, whatever the open-file limit allows.
pub const DEFAULT_MAX_CONNECTIONS_CEILING: usize = 10_000;
/// File descriptors kept back from connections when their cap is derived from the open-file
/// limit, beside one per pooled database connection: the listener, the log, the runtime,
/// the telemetry exporter, the database's files.
const RESERVED_FILES: u64 = 64;
/// How long the accept loop pauses after an error such as `EMFILE`.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// How often at most an accept error is logged.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// Timeouts and caps of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Longest from waiting for a request's headers to having all of them.
    pub header_read_timeout: Duration,
    /// Longest a connection stays open after an answer with no request in progress.
    pub keep_alive_timeout: Duration,
    /// The listen backlog: connections the kernel holds while none is accepted.
    pub backlog: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: max_connections_for_open_files(crate::config::DEFAULT_DB_MAX_CONNECTIONS),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            backlog: DEFAULT_BACKLOG,
        }
    }
}

/// The most connections the open-file limit leaves room for, beside `pool_size` database
/// connections and a reserve, at most [`DEFAULT_MAX_CONNECTIONS_CEILING`] and at least 1.
pub fn max_connections_for_open_files(pool_size: u32) -> usize {
    let files = open_file_limit().unwrap_or(1024);
    let room = files.saturating_sub(RESERVED_FILES + u64::from(pool_size)).max(1);
    usize::try_from(room).unwrap_or(usize::MAX).min(DEFAULT_MAX_CONNECTIONS_CEILING)
}

/// The process's open-file limit (the soft one), if it has one.
#[cfg(unix)]
pub fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// The process's open-file limit: none known on this platform.
#[cfg(not(unix))]
pub fn open_file_limit() -> Option<u64> {
    None
}

/// Raises the soft open-file limit to the hard one (as Go's runtime does), so connections are
/// not capped by a login shell's default of 1,024 when the system allows more. Returns the
/// limit in effect.
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum
        && let Err(e) = setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum })
    {
        tracing::debug!(error = %e, "could not raise the open-file limit");
    }
    getrlimit(Resource::Nofile).current
}

/// Raises the open-file limit: nothing to do on this platform.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
}

/// Binds `addr` with `SO_REUSEADDR` and a listen backlog of `backlog`.
pub(crate) fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let turns = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    // Told to every connection on shutdown; the server waits until every receiver is gone.
    let (stop, stopped) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut errors = AcceptErrors::default();
    loop {
        let turn = tokio::select! {
            turn = turns.clone().acquire_owned() => match turn {
                Ok(turn) => turn,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    errors.met(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            http.clone(),
            Held { stream, _turn: turn },
            peer,
            router.clone(),
            limits,
            stopped.clone(),
        ));
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(());
    stop.closed().await;
}

/// Serves one connection until it closes, it has been idle too long, or shutdown.
async fn connection(
    http: hyper::server::conn::http1::Builder,
    stream: Held,
    peer: SocketAddr,
    router: axum::Router,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<()>,
) {
    let activity = Arc::new(Activity::new());
    let seen = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::new(seen.clone());
        let response = router.clone().oneshot(request);
        async move {
            let response: Result<axum::response::Response, Infallible> = response.await;
            drop(busy);
            response
        }
    });
    let conn = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
    let mut conn = pin!(conn);
    let mut closing = false;
    loop {
        let idle_until = activity.idle_deadline(limits.keep_alive_timeout);
        let changed = activity.changed.notified();
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(idle_until), if !closing && idle_until.is_some() => {
                if activity.idle_for(limits.keep_alive_timeout) {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = changed, if !closing => {}
            changed = stopped.changed(), if !closing => {
                let _ = changed;
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// A connection's socket with its turn among the open connections: the turn is given back
/// when the socket is closed, after an upgrade too.
struct Held {
    stream: TcpStream,
    _turn: OwnedSemaphorePermit,
}

impl tokio::io::AsyncRead for Held {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Held {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Whether a connection has a request in progress, and since when it has had none.
struct Activity {
    opened: Instant,
    in_progress: AtomicUsize,
    /// Milliseconds after `opened` when the last request was answered; [`NEVER`] before the
    /// first (a fresh connection is the header-read timeout's business: under load its first
    /// bytes may come late, as the client's TCP retransmits them).
    idle_since_ms: AtomicU64,
    /// Told when a request starts or ends.
    changed: Notify,
}

/// No request answered yet.
const NEVER: u64 = u64::MAX;

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            in_progress: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(NEVER),
            changed: Notify::new(),
        }
    }

    /// When the connection will have been idle for `timeout`, unless a request comes first;
    /// none while a request is in progress or before the first.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        if self.in_progress.load(Ordering::Acquire) > 0 {
            return None;
        }
        match self.idle_since_ms.load(Ordering::Acquire) {
            NEVER => None,
            ms => Some(self.opened + Duration::from_millis(ms) + timeout),
        }
    }

    /// Whether the connection has had no request in progress for `timeout`.
    fn idle_for(&self, timeout: Duration) -> bool {
        self.idle_deadline(timeout).is_some_and(|deadline| Instant::now() >= deadline)
    }
}

/// A request in progress on a connection, until its response is ready (or it is dropped).
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_progress.fetch_add(1, Ordering::AcqRel);
        activity.changed.notify_one();
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let since = u64::try_from(self.0.opened.elapsed().as_millis()).unwrap_or(NEVER - 1);
        self.0.idle_since_ms.store(since, Ordering::Release);
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_one();
    }
}

/// Accept errors since the last log line.
#[derive(Default)]
struct AcceptErrors {
    logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    /// Notes `error`, logs it unless one was logged within the interval, and pauses: errors
    /// such as `EMFILE` would otherwise repeat at once, in a busy loop.
    async fn met(&mut self, error: &std::io::Error) {
        use std::io::ErrorKind;
        // A connection that was reset before it was accepted is the peer's business.
        if matches!(error.kind(), ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset) {
            return;
        }
        self.unlogged += 1;
        if self.logged.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_EVERY) {
            tracing::error!(error = %error, errors = self.unlogged, "cannot accept connections; pausing (logged at most every {} s)", ACCEPT_ERROR_LOG_EVERY.as_secs());
            self.logged = Some(Instant::now());
            self.unlogged = 0;
        }
        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
    }
}
