//! TLS on `tls-port`: certificates made at test time (a CA, a server certificate for
//! 127.0.0.1/localhost, client certificates from that CA and from a stranger's), served to
//! redis-cli (`--tls`) and to Rust clients over tokio-rustls, under `tls-auth-clients`
//! yes/optional/no; TLS beside plain TCP and TLS alone (`port 0`); clients that are not TLS or
//! fail their handshake; blocking commands, pub/sub, pipelines and large values over TLS; and
//! the start-up errors of a bad TLS configuration.

mod common;

use std::net::TcpStream as StdTcpStream;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How long one reply may take over TLS.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/// PEM files of a test PKI, in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA; a server certificate for localhost and 127.0.0.1; a client certificate from the CA;
    /// a client certificate from another CA (`rogue`); a key that fits no certificate (`other`).
    fn new() -> Pki {
        let dir = tempfile::Builder::new().prefix("strata-tls-").tempdir().expect("temp dir");
        let (ca_params, ca_key) = new_ca("Strata test CA");
        write(dir.path(), "ca.pem", &ca_params.self_signed(&ca_key).expect("CA cert").pem());
        let ca = Issuer::new(ca_params, ca_key);
        leaf(dir.path(), "server", &ca, &["localhost", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
        leaf(dir.path(), "client", &ca, &[], ExtendedKeyUsagePurpose::ClientAuth);
        let (rogue_params, rogue_key) = new_ca("Somebody else's CA");
        let rogue = Issuer::new(rogue_params, rogue_key);
        leaf(dir.path(), "rogue", &rogue, &[], ExtendedKeyUsagePurpose::ClientAuth);
        let other = KeyPair::generate().expect("key");
        write(dir.path(), "other.key", &other.serialize_pem());
        write(dir.path(), "garbage.pem", "this is not PEM\n");
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().expect("utf-8 path").to_string()
    }

    /// Server arguments: TLS on a free port with the server certificate and the CA.
    fn server_args(&self, auth: &str) -> Vec<String> {
        let mut args: Vec<String> = vec!["--tls-port".into(), FREE_PORT.into()];
        args.extend(self.file_args());
        args.extend(["--tls-auth-clients".into(), auth.into()]);
        args
    }

    fn file_args(&self) -> Vec<String> {
        vec![
            "--tls-cert-file".into(),
            self.path("server.pem"),
            "--tls-key-file".into(),
            self.path("server.key"),
            "--tls-ca-cert-file".into(),
            self.path("ca.pem"),
        ]
    }
}

fn new_ca(name: &str) -> (CertificateParams, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    (params, key)
}

fn leaf(dir: &Path, name: &str, issuer: &Issuer<'_, KeyPair>, sans: &[&str], usage: ExtendedKeyUsagePurpose) {
    let key = KeyPair::generate().expect("leaf key");
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, format!("strata test {name}"));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).expect("sign leaf");
    write(dir, &format!("{name}.pem"), &cert.pem());
    write(dir, &format!("{name}.key"), &key.serialize_pem());
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write PEM file");
}

// ---------------------------------------------------------------------------------------------
// Servers and clients
// ---------------------------------------------------------------------------------------------

/// A server with plain TCP on `s.port` and TLS on `tls_port`.
fn start_tls(pki: &Pki, auth: &str) -> (TestServer, u16) {
    let args = pki.server_args(auth);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = TestServer::start_with(&args);
    let tls_port = s.extra_port.expect("tls-port");
    (s, tls_port)
}

/// Which certificate a Rust client presents.
#[derive(Clone, Copy)]
enum ClientCert {
    None,
    Trusted,
    Rogue,
}

fn client_config(pki: &Pki, cert: ClientCert) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(pki.path("ca.pem")).expect("read ca.pem") {
        roots.add(ca.expect("CA PEM")).expect("add CA");
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots);
    let config = match cert {
        ClientCert::None => builder.with_no_client_auth(),
        ClientCert::Trusted | ClientCert::Rogue => {
            let name = if matches!(cert, ClientCert::Trusted) { "client" } else { "rogue" };
            let chain = CertificateDer::pem_file_iter(pki.path(&format!("{name}.pem")))
                .expect("read client cert")
                .collect::<Result<Vec<_>, _>>()
                .expect("client PEM");
            let key = PrivateKeyDer::from_pem_file(pki.path(&format!("{name}.key"))).expect("client key");
            builder.with_client_auth_cert(chain, key).expect("client auth cert")
        }
    };
    Arc::new(config)
}

/// A TLS session to 127.0.0.1:`port`, verifying the server as `localhost`. The handshake may
/// succeed on the client's side even when the server then rejects the client's certificate
/// (TLS 1.3): the first read tells.
async fn tls_connect(pki: &Pki, port: u16, cert: ClientCert) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    let connector = tokio_rustls::TlsConnector::from(client_config(pki, cert));
    let name = ServerName::try_from("localhost").expect("server name");
    tokio::time::timeout(REPLY_TIMEOUT, connector.connect(name, tcp)).await.map_err(std::io::Error::other)?
}

/// A `redis` crate connection over TLS (with the trusted client certificate).
async fn tls_client(pki: &Pki, port: u16) -> redis::aio::MultiplexedConnection {
    let stream = tls_connect(pki, port, ClientCert::Trusted).await.expect("TLS connect");
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(REPLY_TIMEOUT));
    let (con, driver) =
        redis::aio::MultiplexedConnection::new_with_config(&redis::RedisConnectionInfo::default(), stream, config)
            .await
            .expect("redis over TLS");
    tokio::spawn(driver);
    con
}

/// A raw RESP client over TLS, for byte-exact replies and for what the `redis` crate can't do
/// (send while blocked, close while blocked).
struct TlsConn {
    s: BufReader<TlsStream<TcpStream>>,
}

impl TlsConn {
    async fn connect(pki: &Pki, port: u16, cert: ClientCert) -> TlsConn {
        TlsConn { s: BufReader::new(tls_connect(pki, port, cert).await.expect("TLS connect")) }
    }

    async fn send(&mut self, bytes: &[u8]) {
        let w = self.s.get_mut();
        w.write_all(bytes).await.expect("write over TLS");
        w.flush().await.expect("flush TLS");
    }

    async fn call(&mut self, args: &[&str]) -> Reply {
        self.send(&resp(args)).await;
        self.read_reply().await
    }

    async fn read_line(&mut self) -> String {
        let mut buf = Vec::new();
        let n = tokio::time::timeout(REPLY_TIMEOUT, self.s.read_until(b'\n', &mut buf))
            .await
            .expect("reply in time")
            .expect("read over TLS");
        assert!(n > 0, "connection closed while expecting a line");
        assert!(buf.ends_with(b"\r\n"), "line not ended by CRLF: {buf:?}");
        buf.truncate(buf.len() - 2);
        String::from_utf8(buf).expect("utf-8 line")
    }

    fn read_reply(&mut self) -> Pin<Box<dyn std::future::Future<Output = Reply> + Send + '_>> {
        Box::pin(async move {
            let line = self.read_line().await;
            let (t, rest) = line.split_at(1);
            match t {
                "+" => Reply::Status(rest.to_string()),
                "-" => Reply::Err(rest.to_string()),
                ":" => Reply::Int(rest.parse().expect("integer reply")),
                "$" => {
                    let n: i64 = rest.parse().expect("bulk length");
                    if n < 0 {
                        return Reply::Nil;
                    }
                    let mut b = vec![0; n as usize + 2];
                    tokio::time::timeout(REPLY_TIMEOUT, self.s.read_exact(&mut b))
                        .await
                        .expect("bulk in time")
                        .expect("read bulk");
                    assert!(b.ends_with(b"\r\n"), "bulk not ended by CRLF");
                    b.truncate(n as usize);
                    Reply::Bulk(b)
                }
                "*" => {
                    let n: i64 = rest.parse().expect("array length");
                    if n < 0 {
                        return Reply::Nil;
                    }
                    let mut items = Vec::new();
                    for _ in 0..n {
                        items.push(self.read_reply().await);
                    }
                    Reply::Array(items)
                }
                other => Reply::Other(format!("{other}{rest}")),
            }
        })
    }

    /// Reads until the server closes (or fails) the session; what was read before.
    async fn read_to_close(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(REPLY_TIMEOUT, self.s.read_to_end(&mut rest)).await.expect("closed in time");
        rest
    }
}

/// `CLIENT LIST` lines whose `laddr` is the TLS port.
async fn clients_on(c: &mut redis::aio::MultiplexedConnection, port: u16) -> Vec<String> {
    let list = call(c, &["CLIENT", "LIST"]).await.text();
    let laddr = format!("laddr=127.0.0.1:{port} ");
    list.lines().filter(|l| l.contains(&laddr)).map(str::to_string).collect()
}

/// redis-cli over TLS: (success, stdout + stderr).
fn redis_cli(pki: &Pki, port: u16, cert: ClientCert, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["--tls", "--cacert", &pki.path("ca.pem"), "-h", "127.0.0.1", "-p", &port.to_string()]);
    match cert {
        ClientCert::None => {}
        ClientCert::Trusted => {
            cmd.args(["--cert", &pki.path("client.pem"), "--key", &pki.path("client.key")]);
        }
        ClientCert::Rogue => {
            cmd.args(["--cert", &pki.path("rogue.pem"), "--key", &pki.path("rogue.key")]);
        }
    }
    let out = cmd.args(args).stdin(Stdio::null()).output().expect("run redis-cli (redis-tools)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn assert_cli_pong(pki: &Pki, port: u16, cert: ClientCert, case: &str) {
    let (ok, out) = redis_cli(pki, port, cert, &["PING"]);
    assert!(ok && out.trim() == "PONG", "{case}: expected PONG, got {out:?}");
}

fn assert_cli_refused(pki: &Pki, port: u16, cert: ClientCert, case: &str) {
    let (_, out) = redis_cli(pki, port, cert, &["PING"]);
    assert!(!out.contains("PONG"), "{case}: the server answered: {out:?}");
}

/// One PING over a fresh plain connection.
fn plain_ping(port: u16) -> Reply {
    RawConn::connect(port).call(&["PING"])
}

// ---------------------------------------------------------------------------------------------
// redis-cli and client certificates
// ---------------------------------------------------------------------------------------------

#[test]
fn redis_cli_with_client_certificates_required() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    assert_cli_pong(&pki, tls, ClientCert::Trusted, "yes + trusted cert");
    let (ok, out) = redis_cli(&pki, tls, ClientCert::Trusted, &["SET", "k", "over tls"]);
    assert!(ok && out.trim() == "OK", "SET: {out:?}");
    let (ok, out) = redis_cli(&pki, tls, ClientCert::Trusted, &["GET", "k"]);
    assert!(ok && out.trim() == "over tls", "GET: {out:?}");
    assert_cli_refused(&pki, tls, ClientCert::None, "yes + no cert");
    assert_cli_refused(&pki, tls, ClientCert::Rogue, "yes + cert of another CA");
    // The plain port serves the same data meanwhile.
    assert_eq!(s.raw().call(&["GET", "k"]), bulk("over tls"));
}

#[test]
fn redis_cli_with_client_certificates_optional() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "optional");
    assert_cli_pong(&pki, tls, ClientCert::Trusted, "optional + trusted cert");
    assert_cli_pong(&pki, tls, ClientCert::None, "optional + no cert");
    assert_cli_refused(&pki, tls, ClientCert::Rogue, "optional + cert of another CA");
    assert_eq!(plain_ping(s.port), status("PONG"));
}

#[test]
fn redis_cli_without_client_certificates() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "no");
    assert_cli_pong(&pki, tls, ClientCert::None, "no + no cert");
    assert_cli_pong(&pki, tls, ClientCert::Trusted, "no + a cert (not asked for)");
    assert_eq!(plain_ping(s.port), status("PONG"));
}

#[tokio::test]
async fn rust_client_certificates_are_checked() {
    let pki = Pki::new();
    let (_s, tls) = start_tls(&pki, "yes");
    // Refused: the server ends the session before any reply (TLS 1.3 reports it on the first read).
    for cert in [ClientCert::None, ClientCert::Rogue] {
        if let Ok(stream) = tls_connect(&pki, tls, cert).await {
            let mut c = TlsConn { s: BufReader::new(stream) };
            c.s.get_mut().write_all(&resp(&["PING"])).await.ok();
            c.s.get_mut().flush().await.ok();
            let got = c.read_to_close().await;
            assert!(got.is_empty(), "a refused client got {:?}", String::from_utf8_lossy(&got));
        }
    }
    let mut c = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    assert_eq!(c.call(&["PING"]).await, status("PONG"));
}

// ---------------------------------------------------------------------------------------------
// Clients that are not TLS, or stall, on the TLS port
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn plain_and_stalled_clients_on_the_tls_port_disturb_nobody() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    let mut good = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    assert_eq!(good.call(&["SET", "k", "v"]).await, ok());

    // A client that connects and says nothing: the accept loop goes on meanwhile.
    let stalled = StdTcpStream::connect(("127.0.0.1", tls)).expect("connect");
    // A plain-text client: nothing useful back, and the session ends.
    let plain = std::thread::spawn(move || {
        let mut raw = RawConn::connect(tls);
        let _ = raw.try_send(&resp(&["PING"]));
        raw.read_until_closed()
    });
    let got = tokio::task::spawn_blocking(move || plain.join().expect("plain client thread")).await.expect("join");
    let text = String::from_utf8_lossy(&got);
    assert!(!text.contains("PONG"), "a plain client on the TLS port got {text:?}");

    // New TLS clients are accepted while the stalled one still hangs in its handshake.
    let mut fresh = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    assert_eq!(fresh.call(&["GET", "k"]).await, bulk("v"));
    // The connected TLS client and the plain port are unaffected.
    assert_eq!(good.call(&["INCR", "n"]).await, int(1));
    assert_eq!(plain_ping(s.port), status("PONG"));
    // Garbage after a TLS-looking start is refused too.
    let mut junk = RawConn::connect(tls);
    let _ = junk.try_send(b"\x16\x03\x01\x00\x05hello, not a ClientHello\r\n");
    let got = junk.read_until_closed();
    assert!(!String::from_utf8_lossy(&got).contains("PONG"));
    assert_eq!(good.call(&["INCR", "n"]).await, int(2));
    drop(stalled);
}

// ---------------------------------------------------------------------------------------------
// Commands over TLS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn set_get_pipeline_and_large_values_over_tls() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    let mut c = tls_client(&pki, tls).await;
    assert_eq!(call(&mut c, &["SET", "greeting", "hello"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "greeting"]).await, bulk("hello"));

    // A pipeline of many commands in one write; the replies come back complete and in order.
    let mut pipe = redis::pipe();
    for i in 0..5000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(format!("value:{i}"));
        pipe.cmd("GET").arg(format!("key:{i}"));
    }
    pipe.cmd("DBSIZE");
    let replies: Vec<redis::Value> = pipe.query_async(&mut c).await.expect("pipeline over TLS");
    assert_eq!(replies.len(), 10_001);
    for i in 0..5000 {
        assert_eq!(to_reply(replies[2 * i].clone()), ok());
        assert_eq!(to_reply(replies[2 * i + 1].clone()), bulk(format!("value:{i}")));
    }
    assert_eq!(to_reply(replies[10_000].clone()), int(5001));

    // The same pipeline, raw: one write of all commands, replies read back byte for byte.
    let mut raw = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    let mut batch = Vec::new();
    for i in 0..3000i64 {
        batch.extend_from_slice(&resp(&["INCR", "counter"]));
        batch.extend_from_slice(&resp(&["ECHO", &format!("e{i}")]));
    }
    raw.send(&batch).await;
    for i in 0..3000i64 {
        assert_eq!(raw.read_reply().await, int(i + 1));
        assert_eq!(raw.read_reply().await, bulk(format!("e{i}")));
    }

    // Values of several MB cross many TLS records both ways.
    let big: Vec<u8> = (0..6 * 1024 * 1024 + 7).map(|i: usize| (i * 31 % 251) as u8).collect();
    let r = redis::cmd("SET").arg("big").arg(&big[..]).query_async::<redis::Value>(&mut c).await;
    assert_eq!(to_reply(r.expect("SET big")), ok());
    let got: Vec<u8> = redis::cmd("GET").arg("big").query_async(&mut c).await.expect("GET big");
    assert!(got == big, "the large value came back altered ({} bytes)", got.len());
    assert_eq!(call(&mut c, &["STRLEN", "big"]).await, int(big.len() as i64));
    // And the plain port reads what TLS wrote.
    let mut plain = s.client().await;
    assert_eq!(call(&mut plain, &["STRLEN", "big"]).await, int(big.len() as i64));
    assert_eq!(call(&mut plain, &["GET", "key:4999"]).await, bulk("value:4999"));
}

#[tokio::test]
async fn pubsub_over_tls() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    let mut sub = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    assert_eq!(sub.call(&["SUBSCRIBE", "news"]).await, arr(vec![bulk("subscribe"), bulk("news"), int(1)]));
    let mut publisher = s.client().await;
    assert_eq!(call(&mut publisher, &["PUBLISH", "news", "first"]).await, int(1));
    assert_eq!(sub.read_reply().await, arr(vec![bulk("message"), bulk("news"), bulk("first")]));
    // Many messages at once, from a TLS publisher, arrive complete and in order.
    let mut tls_pub = tls_client(&pki, tls).await;
    let payload = "x".repeat(1000);
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("PUBLISH").arg("news").arg(format!("{i}:{payload}"));
    }
    let counts: Vec<i64> = pipe.query_async(&mut tls_pub).await.expect("publish pipeline");
    assert!(counts.iter().all(|&n| n == 1), "every PUBLISH reached the one subscriber");
    for i in 0..2000 {
        assert_eq!(sub.read_reply().await, arr(vec![bulk("message"), bulk("news"), bulk(format!("{i}:{payload}"))]));
    }
    assert_eq!(sub.call(&["PING"]).await, arr(vec![bulk("pong"), bulk("")]));
}

#[tokio::test]
async fn blpop_over_tls_is_served_by_another_client() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    let mut plain = s.client().await;
    let mut waiter = tls_client(&pki, tls).await;
    let blocked = tokio::spawn(async move { call(&mut waiter, &["BLPOP", "jobs", "0"]).await });
    until_blocked(&mut plain, 1).await;
    assert_eq!(call(&mut plain, &["RPUSH", "jobs", "j1"]).await, int(1));
    assert_eq!(blocked.await.expect("join"), bulks(&["jobs", "j1"]));
    assert_eq!(blocked_clients(&mut plain).await, 0);

    // A TLS client serves a TLS waiter as well.
    let mut pusher = tls_client(&pki, tls).await;
    let mut waiter = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    waiter.send(&resp(&["BRPOP", "jobs", "0"])).await;
    until_blocked(&mut plain, 1).await;
    assert_eq!(call(&mut pusher, &["LPUSH", "jobs", "j2"]).await, int(1));
    assert_eq!(waiter.read_reply().await, bulks(&["jobs", "j2"]));
}

#[tokio::test]
async fn commands_sent_while_blocked_run_after_the_blocking_reply() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    let mut plain = s.client().await;
    let mut c = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
    c.send(&resp(&["BLPOP", "q", "0"])).await;
    until_blocked(&mut plain, 1).await;
    // Sent while blocked: not run yet (the push would otherwise serve the BLPOP itself).
    c.send(&resp(&["RPUSH", "q", "mine"])).await;
    c.send(&resp(&["PING"])).await;
    // Half of a command, completed after the BLPOP is served.
    let echo = resp(&["ECHO", "split across reads"]);
    c.send(&echo[..9]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(call(&mut plain, &["LLEN", "q"]).await, int(0), "nothing the blocked client sent ran");
    assert_eq!(blocked_clients(&mut plain).await, 1);
    assert_eq!(call(&mut plain, &["RPUSH", "q", "theirs"]).await, int(1));
    assert_eq!(c.read_reply().await, bulks(&["q", "theirs"]));
    assert_eq!(c.read_reply().await, int(1), "RPUSH after the BLPOP");
    assert_eq!(c.read_reply().await, status("PONG"));
    c.send(&echo[9..]).await;
    assert_eq!(c.read_reply().await, bulk("split across reads"));
    assert_eq!(c.call(&["LRANGE", "q", "0", "-1"]).await, bulks(&["mine"]));

    // Blocked again with a pipelined tail: BLPOP; BLPOP; GET in one write, and more while blocked.
    let mut batch = resp(&["BLPOP", "a", "0"]);
    batch.extend_from_slice(&resp(&["BLPOP", "b", "0"]));
    batch.extend_from_slice(&resp(&["GET", "after"]));
    c.send(&batch).await;
    until_blocked(&mut plain, 1).await;
    c.send(&resp(&["SET", "after", "1"])).await;
    assert_eq!(call(&mut plain, &["RPUSH", "a", "x"]).await, int(1));
    assert_eq!(c.read_reply().await, bulks(&["a", "x"]));
    until_blocked(&mut plain, 1).await;
    assert_eq!(call(&mut plain, &["RPUSH", "b", "y"]).await, int(1));
    assert_eq!(c.read_reply().await, bulks(&["b", "y"]));
    assert_eq!(c.read_reply().await, nil(), "GET ran before the SET sent later");
    assert_eq!(c.read_reply().await, ok());
    assert_eq!(c.call(&["GET", "after"]).await, bulk("1"));
}

/// The plain-TCP counterpart of the pipelined part above: replies of the commands before a
/// blocking one reach the client before it waits (Redis writes them out before blocking).
#[tokio::test]
async fn replies_before_a_blocking_command_are_sent_before_it_waits_plain() {
    let pki = Pki::new();
    let (s, _tls) = start_tls(&pki, "yes");
    let mut plain = s.client().await;
    let mut c = s.raw();
    let mut batch = resp(&["SET", "before", "1"]);
    batch.extend_from_slice(&resp(&["INCR", "before"]));
    batch.extend_from_slice(&resp(&["BLPOP", "later", "0"]));
    batch.extend_from_slice(&resp(&["GET", "before"]));
    c.send(&batch);
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), int(2));
    until_blocked(&mut plain, 1).await;
    c.send(&resp(&["INCR", "before"]));
    assert_eq!(call(&mut plain, &["RPUSH", "later", "x"]).await, int(1));
    assert_eq!(c.read_reply(), bulks(&["later", "x"]));
    assert_eq!(c.read_reply(), bulk("2"));
    assert_eq!(c.read_reply(), int(3));
}

#[tokio::test]
async fn a_blocked_tls_client_that_closes_is_forgotten() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "yes");
    let mut plain = s.client().await;
    // Once with a TLS close_notify, once by just dropping the socket.
    for clean in [true, false] {
        let mut c = TlsConn::connect(&pki, tls, ClientCert::Trusted).await;
        c.send(&resp(&["BLPOP", "gone", "0"])).await;
        until_blocked(&mut plain, 1).await;
        let listed = clients_on(&mut plain, tls).await;
        assert_eq!(listed.len(), 1, "CLIENT LIST shows the TLS client: {listed:?}");
        assert!(listed[0].contains("cmd=blpop"), "{}", listed[0]);
        if clean {
            c.s.get_mut().shutdown().await.expect("close_notify");
        }
        drop(c);
        let mut gone = false;
        for _ in 0..500 {
            if clients_on(&mut plain, tls).await.is_empty() && blocked_clients(&mut plain).await == 0 {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(gone, "the closed TLS client stays listed (clean close: {clean})");
        // Nobody takes the next element.
        assert_eq!(call(&mut plain, &["RPUSH", "gone", "kept"]).await, int(1));
        assert_eq!(call(&mut plain, &["LPOP", "gone"]).await, bulk("kept"));
    }
}

#[tokio::test]
async fn info_and_client_list_show_tls_clients() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "optional");
    let mut plain = s.client().await;
    let before = info_fields(&call(&mut plain, &["INFO", "clients"]).await.text());
    let mut c = TlsConn::connect(&pki, tls, ClientCert::None).await;
    assert_eq!(c.call(&["CLIENT", "SETNAME", "secure"]).await, ok());
    let info = c.call(&["CLIENT", "INFO"]).await.text();
    assert!(info.contains(&format!("laddr=127.0.0.1:{tls} ")), "{info}");
    assert!(info.contains("name=secure "), "{info}");
    let listed = clients_on(&mut plain, tls).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].contains("name=secure "), "{}", listed[0]);
    let after = info_fields(&c.call(&["INFO", "clients"]).await.text());
    let n = |f: &std::collections::HashMap<String, String>| f["connected_clients"].parse::<i64>().expect("number");
    assert_eq!(n(&after), n(&before) + 1);
    let server = info_fields(&c.call(&["INFO", "server"]).await.text());
    assert_eq!(server["tcp_port"], s.port.to_string());
    // CLIENT KILL by address ends a TLS session too.
    let addr = info.split(' ').find_map(|f| f.strip_prefix("addr=")).expect("addr").to_string();
    assert_eq!(call(&mut plain, &["CLIENT", "KILL", &addr]).await, ok());
    assert!(c.read_to_close().await.is_empty());
}

#[tokio::test]
async fn config_get_shows_the_tls_directives() {
    let pki = Pki::new();
    let (s, tls) = start_tls(&pki, "optional");
    let mut c = s.client().await;
    let pairs = |r: Reply| -> Vec<(String, String)> {
        let items = match r {
            Reply::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            other => other.array(),
        };
        let texts: Vec<String> = items.iter().map(Reply::text).collect();
        let mut out: Vec<(String, String)> = texts.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
        out.sort();
        out
    };
    let got = pairs(
        call(
            &mut c,
            &["CONFIG", "GET", "tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-auth-clients"],
        )
        .await,
    );
    let mut want = vec![
        ("tls-auth-clients".to_string(), "optional".to_string()),
        ("tls-ca-cert-file".to_string(), pki.path("ca.pem")),
        ("tls-cert-file".to_string(), pki.path("server.pem")),
        ("tls-key-file".to_string(), pki.path("server.key")),
        ("tls-port".to_string(), tls.to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// TLS only (`port 0`)
// ---------------------------------------------------------------------------------------------

/// A server with `port 0` and a TLS port, started by hand (the harness waits on a plain PING).
struct TlsOnly {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for TlsOnly {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn start_tls_only(pki: &Pki) -> TlsOnly {
    let bin: PathBuf = if target_is_redis() {
        PathBuf::from("redis-server")
    } else {
        std::env::var("STRATA_BIN").map(PathBuf::from).unwrap_or_else(|_| env!("CARGO_BIN_EXE_strata-server").into())
    };
    for _attempt in 0..3 {
        let dir = tempfile::Builder::new().prefix("strata-test-").tempdir().expect("temp dir");
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.args(["--port", "0", "--bind", "127.0.0.1", "--dir", dir.path().to_str().expect("utf-8")]);
        cmd.args(["--tls-port", &port.to_string(), "--tls-auth-clients", "yes"]);
        cmd.args(pki.file_args());
        if target_is_redis() {
            cmd.args(["--save", ""]);
        } else {
            cmd.args(["--metrics-port", "0"]);
        }
        let log = std::fs::File::create(dir.path().join("out.log")).expect("log file");
        let stderr = log.try_clone().expect("log file");
        let child = cmd.stdin(Stdio::null()).stdout(log).stderr(stderr).spawn().expect("spawn server");
        let mut server = TlsOnly { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server.child.try_wait().expect("try_wait") {
                let out = std::fs::read_to_string(server._dir.path().join("out.log")).unwrap_or_default();
                assert!(out.contains("in use"), "server exited with {status}: {out}");
                break; // the port was taken meanwhile: another one
            }
            if let Ok(stream) = tls_connect(pki, port, ClientCert::Trusted).await {
                let mut c = TlsConn { s: BufReader::new(stream) };
                c.send(&resp(&["PING"])).await;
                if c.read_reply().await == status("PONG") {
                    return server;
                }
            }
            assert!(Instant::now() < deadline, "TLS-only server not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("could not start a TLS-only server on a free port")
}

#[tokio::test]
async fn port_0_with_a_tls_port_serves_tls_only() {
    let pki = Pki::new();
    let server = start_tls_only(&pki).await;
    let mut c = TlsConn::connect(&pki, server.port, ClientCert::Trusted).await;
    assert_eq!(c.call(&["SET", "only", "tls"]).await, ok());
    assert_eq!(c.call(&["GET", "only"]).await, bulk("tls"));
    assert_eq!(c.call(&["CONFIG", "GET", "port"]).await, bulks(&["port", "0"]));
    let info = info_fields(&c.call(&["INFO", "server"]).await.text());
    assert_eq!(info["tcp_port"], server.port.to_string(), "INFO shows the TLS port when there is no plain one");
    // No plain listener on the TLS port's address either: a plain client gets nothing useful.
    let mut raw = RawConn::connect(server.port);
    let _ = raw.try_send(&resp(&["PING"]));
    assert!(!String::from_utf8_lossy(&raw.read_until_closed()).contains("PONG"));
}

// ---------------------------------------------------------------------------------------------
// Start-up errors
// ---------------------------------------------------------------------------------------------

fn assert_refused(args: &[String], expected: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let exited = TestServer::start_expecting_exit(None, &args);
    assert!(!exited.status.success(), "the server started with {args:?}");
    assert!(exited.output.contains(expected), "expected {expected:?} in:\n{}", exited.output);
    assert!(!exited.output.contains("panicked"), "{}", exited.output);
}

#[test]
fn bad_tls_configurations_stop_the_start() {
    let pki = Pki::new();
    let port = free_port().to_string();
    let tls = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["--tls-port".to_string(), port.clone()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (cert, key, ca) = (pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem"));
    let missing = pki.path("missing.key");
    assert_refused(&tls(&[]), "No tls-cert-file configured!");
    assert_refused(&tls(&["--tls-cert-file", &cert]), "No tls-key-file configured!");
    assert_refused(
        &tls(&["--tls-cert-file", &cert, "--tls-key-file", &key]),
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified",
    );
    assert_refused(
        &tls(&["--tls-cert-file", &cert, "--tls-key-file", &missing, "--tls-ca-cert-file", &ca]),
        "Failed to load private key",
    );
    assert_refused(
        &tls(&["--tls-cert-file", &cert, "--tls-key-file", &pki.path("garbage.pem"), "--tls-ca-cert-file", &ca]),
        "Failed to load private key",
    );
    assert_refused(
        &tls(&["--tls-cert-file", &pki.path("garbage.pem"), "--tls-key-file", &key, "--tls-ca-cert-file", &ca]),
        "Failed to load certificate",
    );
    // A key that is not the certificate's.
    assert_refused(
        &tls(&["--tls-cert-file", &cert, "--tls-key-file", &pki.path("other.key"), "--tls-ca-cert-file", &ca]),
        "Failed to load private key",
    );
    if !target_is_redis() {
        assert_refused(
            &tls(&["--tls-cert-file", &cert, "--tls-key-file", &key, "--tls-ca-cert-file", &pki.path("missing.pem")]),
            "Failed to load CA certificates",
        );
        assert_refused(&tls(&["--tls-auth-clients", "maybe"]), "tls-auth-clients");
    }
}
