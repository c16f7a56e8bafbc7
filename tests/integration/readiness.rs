//! `/readyz` with the database gone: a probe gets its 503 within a second (probes commonly give
//! up after one), while `/healthz` stays up.
//!
//! The server reaches PostgreSQL through a TCP relay of the test's own; cutting the relay
//! drops every pooled connection and refuses new ones, as a database host going away does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use workplan_api::config::ApiConfig;
use workplan_tests::TestDb;

/// The longest a probe may wait for its answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A TCP relay to `upstream` that can be cut: the listener closed and every connection dropped.
struct Relay {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let addr = listener.local_addr().expect("the relay's address");
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let held = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                held.lock().expect("the relay's connections").push(relay);
            }
        });
        Self { addr, accept, connections }
    }

    fn cut(&self) {
        self.accept.abort();
        for connection in self.connections.lock().expect("the relay's connections").drain(..) {
            connection.abort();
        }
    }
}

/// `url` with its host and port replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> String {
    let mut url = reqwest::Url::parse(url).expect("a database URL");
    url.set_ip_host(addr.ip()).expect("an IP host");
    url.set_port(Some(addr.port())).expect("a port");
    url.to_string()
}

/// The address `url` points at.
async fn address_of(url: &str) -> SocketAddr {
    let url = reqwest::Url::parse(url).expect("a database URL");
    let host = url.host_str().expect("a host").to_owned();
    let port = url.port().unwrap_or(5432);
    tokio::net::lookup_host((host, port)).await.expect("resolve").next().expect("an address")
}

/// Status and time taken of `GET path`.
async fn probe(client: &reqwest::Client, base: SocketAddr, path: &str) -> (u16, Duration) {
    let start = Instant::now();
    let status = match client.get(format!("http://{base}{path}")).timeout(Duration::from_secs(10)).send().await {
        Ok(r) => r.status().as_u16(),
        Err(e) => panic!("GET {path}: {e}"),
    };
    (status, start.elapsed())
}

#[tokio::test]
async fn readyz_answers_503_within_a_second_when_postgresql_is_unreachable() {
    let db = TestDb::create().await.expect("a test database");
    let client = reqwest::Client::new();
    if !db.is_postgres() {
        // An SQLite file cannot become unreachable; the probe answers at once.
        let app =
            workplan_tests::TestApp::spawn_with(db, workplan_server::store_options(3), ApiConfig::default()).await;
        assert_eq!(probe(&client, app.addr, "/readyz").await.0, 200);
        return;
    }
    let relay = Relay::start(address_of(db.url()).await).await;
    let url = through(db.url(), relay.addr);
    let listen = "127.0.0.1:0".parse().expect("addr");
    let app =
        workplan_server::Application::build(&url, listen, &workplan_server::store_options(3), ApiConfig::default())
            .await
            .expect("build the application");
    let addr = app.local_addr().expect("bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    assert_eq!(probe(&client, addr, "/readyz").await.0, 200, "ready with the database there");

    relay.cut();
    // The first probe finds the pooled connections dead, the next ones find none to open.
    for attempt in 0..3 {
        let (status, took) = probe(&client, addr, "/readyz").await;
        assert_eq!(status, 503, "probe {attempt}: not ready without the database");
        assert!(took < PROBE_TIMEOUT, "probe {attempt}: answered after {took:?}");
        assert_eq!(probe(&client, addr, "/healthz").await.0, 200, "the process is alive");
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
}
