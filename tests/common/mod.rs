//! Black-box test harness: starts a server (Strata, or a real `redis-server` when
//! `STRATA_TEST_TARGET=redis`) on a free loopback port with its own temporary data directory,
//! and offers clients plus a few helpers to assert exact replies.
//!
//! Each integration test file compiles this module on its own and uses a different part of it.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use redis::Value;

/// How long a server may take to answer its first PING.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a graceful SHUTDOWN may take.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// Poll interval while waiting for the server.
const POLL: Duration = Duration::from_millis(20);
/// Response timeout of the clients handed to tests (generous: Strata may run a debug build).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Strata,
    Redis,
}

impl Kind {
    fn from_env() -> Kind {
        match std::env::var("STRATA_TEST_TARGET") {
            Ok(v) if v.eq_ignore_ascii_case("redis") => Kind::Redis,
            _ => Kind::Strata,
        }
    }
}

/// A running server with its own data directory. Dropping it kills the process.
pub struct TestServer {
    pub port: u16,
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
    child: Option<Child>,
    kind: Kind,
    args: Vec<String>,
    password: Option<String>,
    /// The port given for an argument written as [`FREE_PORT`] (e.g. `--metrics-port`).
    pub extra_port: Option<u16>,
}

/// An argument value replaced by a free port at each start attempt (`--metrics-port FREE_PORT`).
pub const FREE_PORT: &str = "FREE_PORT";

/// Output of a server process that was expected to exit on its own.
pub struct ExitedServer {
    pub status: ExitStatus,
    /// stdout, stderr and the log file of the process, concatenated.
    pub output: String,
    /// The data directory the process ran in (removed on drop).
    pub dir: tempfile::TempDir,
}

/// True when the suite runs against the reference redis-server (`STRATA_TEST_TARGET=redis`).
pub fn target_is_redis() -> bool {
    Kind::from_env() == Kind::Redis
}

fn strata_bin() -> PathBuf {
    if let Ok(p) = std::env::var("STRATA_BIN") {
        return PathBuf::from(p);
    }
    match option_env!("CARGO_BIN_EXE_strata-server") {
        Some(p) => PathBuf::from(p),
        None => panic!("no Strata binary: set STRATA_BIN, or STRATA_TEST_TARGET=redis to test redis-server"),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

fn read_or_empty(p: &Path) -> String {
    fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

fn server_output(dir: &Path) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}\n--- strata.log ---\n{}",
        read_or_empty(&dir.join("stdout.log")),
        read_or_empty(&dir.join("stderr.log")),
        read_or_empty(&dir.join("strata.log")),
    )
}

/// Split the caller's args: a leading non-`--` argument is a config file and must come first.
fn split_config_file(args: &[String]) -> (Option<&String>, &[String]) {
    match args.first() {
        Some(first) if !first.starts_with("--") => (Some(first), &args[1..]),
        _ => (None, args),
    }
}

fn spawn(kind: Kind, dir: &Path, port: u16, args: &[String]) -> Child {
    let (config_file, rest) = split_config_file(args);
    let port_s = port.to_string();
    let dir_s = dir.to_str().expect("utf-8 temp dir").to_string();
    let mut cmd = match kind {
        Kind::Redis => Command::new("redis-server"),
        Kind::Strata => Command::new(strata_bin()),
    };
    if let Some(cf) = config_file {
        cmd.arg(cf);
    }
    cmd.args(["--port", &port_s, "--bind", "127.0.0.1", "--dir", &dir_s]);
    match kind {
        Kind::Redis => {
            cmd.args(["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]);
        }
        Kind::Strata => {
            let log = dir.join("strata.log");
            cmd.arg("--logfile").arg(log);
            // Servers of parallel tests would all want the default metrics port; a test that
            // scrapes passes its own `--metrics-port` (later arguments win).
            cmd.args(["--metrics-port", "0"]);
        }
    }
    cmd.args(rest);
    let stdout =
        fs::OpenOptions::new().create(true).append(true).open(dir.join("stdout.log")).expect("open stdout.log");
    let stderr =
        fs::OpenOptions::new().create(true).append(true).open(dir.join("stderr.log")).expect("open stderr.log");
    cmd.stdin(Stdio::null()).stdout(stdout).stderr(stderr).current_dir(dir);
    cmd.spawn().unwrap_or_else(|e| panic!("cannot spawn {kind:?} server: {e}"))
}

/// One PING over a fresh connection; true when the server answers PONG (or demands AUTH).
fn ping_ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    let mut r = BufReader::new(s);
    if r.read_line(&mut line).is_err() {
        return false;
    }
    line.starts_with("+PONG") || line.starts_with("-NOAUTH")
}

/// The process id the server on `port` reports in INFO, or None if it can't tell (not ready,
/// or it wants a password not given here).
fn server_pid(port: u16, password: Option<&str>) -> Option<u32> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    let mut req = Vec::new();
    if let Some(p) = password {
        req.extend_from_slice(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{p}\r\n", p.len()).as_bytes());
    }
    req.extend_from_slice(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n");
    s.write_all(&req).ok()?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 || line.starts_with("-NOAUTH") {
            return None;
        }
        if let Some(v) = line.strip_prefix("process_id:") {
            return v.trim().parse().ok();
        }
    }
    None
}

/// Name of the config file written into the data directory.
pub const CONFIG_FILE: &str = "strata.conf";

fn new_temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("strata-test-").tempdir().expect("create temp dir")
}

/// The argument list: the config file (written into `dir`) first, then the extra arguments.
fn full_args(dir: &Path, config: Option<&str>, args: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(text) = config {
        let path = dir.join(CONFIG_FILE);
        fs::write(&path, text).expect("write config file");
        out.push(path.to_str().expect("utf-8 path").to_string());
    }
    out.extend(args.iter().map(|s| s.to_string()));
    out
}

fn password_from_args(args: &[String]) -> Option<String> {
    args.windows(2).find(|w| w[0].eq_ignore_ascii_case("--requirepass")).map(|w| w[1].clone())
}

impl TestServer {
    /// Start a server with the default configuration.
    pub fn start() -> TestServer {
        Self::start_with(&[])
    }

    /// Start a server with extra `--directive value` arguments.
    pub fn start_with(args: &[&str]) -> TestServer {
        Self::start_inner(None, args)
    }

    /// Write `config` to `strata.conf` in the data directory and start the server with that
    /// config file (as its first argument) plus extra `--directive value` arguments.
    pub fn start_with_config(config: &str, args: &[&str]) -> TestServer {
        Self::start_inner(Some(config), args)
    }

    fn start_inner(config: Option<&str>, args: &[&str]) -> TestServer {
        let tmp = new_temp_dir();
        let args = full_args(tmp.path(), config, args);
        let mut server = TestServer {
            port: 0,
            dir: tmp.path().to_path_buf(),
            _tmp: tmp,
            child: None,
            kind: Kind::from_env(),
            password: password_from_args(&args),
            args,
            extra_port: None,
        };
        server.launch();
        server
    }

    /// For a server expected to refuse to start: spawn it (optionally with a config file, as in
    /// [`start_with_config`](Self::start_with_config)), wait up to 30 s for it to exit and
    /// return its exit status and output.
    pub fn start_expecting_exit(config: Option<&str>, args: &[&str]) -> ExitedServer {
        let tmp = new_temp_dir();
        let args = full_args(tmp.path(), config, args);
        let mut child = spawn(Kind::from_env(), tmp.path(), free_port(), &args);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return ExitedServer { status, output: server_output(tmp.path()), dir: tmp };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not exit within {STARTUP_TIMEOUT:?}\n{}", server_output(tmp.path()));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Path of the config file written by [`start_with_config`](Self::start_with_config).
    pub fn config_path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    /// Spawn on a fresh port and wait for readiness; retries when the port was taken meanwhile.
    fn launch(&mut self) {
        for attempt in 0..3 {
            self.port = free_port();
            let args: Vec<String> = if self.args.iter().any(|a| a == FREE_PORT) {
                let extra = free_port();
                self.extra_port = Some(extra);
                self.args.iter().map(|a| if a == FREE_PORT { extra.to_string() } else { a.clone() }).collect()
            } else {
                self.args.clone()
            };
            let mut child = spawn(self.kind, &self.dir, self.port, &args);
            let deadline = Instant::now() + STARTUP_TIMEOUT;
            loop {
                if let Some(status) = child.try_wait().expect("try_wait") {
                    let out = server_output(&self.dir);
                    if attempt < 2 && out.contains("in use") {
                        break; // somebody grabbed the port: try another one
                    }
                    panic!("server exited during start-up with {status}\n{out}");
                }
                // The port was free when picked; another test's server may have taken it
                // since (then ours fails to bind and exits): answer only for our own process.
                if ping_ready(self.port)
                    && server_pid(self.port, self.password.as_deref()).is_none_or(|pid| pid == child.id())
                {
                    self.child = Some(child);
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("server not ready within {STARTUP_TIMEOUT:?}\n{}", server_output(&self.dir));
                }
                std::thread::sleep(POLL);
            }
        }
        panic!("could not start the server on a free port")
    }

    /// True when the server under test is Strata (not the reference redis-server).
    pub fn is_strata(&self) -> bool {
        self.kind == Kind::Strata
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is not running").id()
    }

    /// stdout, stderr and log file of the server so far.
    pub fn output(&self) -> String {
        server_output(&self.dir)
    }

    pub fn redis_client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client url")
    }

    /// A RESP2 async client (not authenticated).
    pub async fn client(&self) -> redis::aio::MultiplexedConnection {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        self.redis_client().get_multiplexed_async_connection_with_config(&config).await.expect("connect async client")
    }

    /// A RESP2 blocking client (not authenticated).
    pub fn sync_client(&self) -> redis::Connection {
        let con = self.redis_client().get_connection_with_timeout(Duration::from_secs(5)).expect("connect sync client");
        con.set_read_timeout(Some(RESPONSE_TIMEOUT)).expect("set read timeout");
        con
    }

    /// A raw socket to the server, for byte-exact protocol tests.
    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    /// Graceful stop (SHUTDOWN) and start again on the same directory and a new port.
    pub fn restart(&mut self) {
        self.shutdown();
        self.launch();
    }

    /// Send SHUTDOWN and wait for the process to exit with success.
    pub fn shutdown(&mut self) {
        let mut child = self.child.take().expect("server is not running");
        {
            let mut s = RawConn::connect(self.port);
            if let Some(pw) = &self.password {
                s.send(&resp(&["AUTH", pw]));
                assert_eq!(s.read_line(), "+OK", "AUTH before SHUTDOWN");
            }
            s.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
            // The server closes the connection without a reply on success.
            s.read_until_closed();
        }
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                assert!(status.success(), "server exited with {status} after SHUTDOWN\n{}", server_output(&self.dir));
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not exit within {SHUTDOWN_TIMEOUT:?} of SHUTDOWN\n{}", server_output(&self.dir));
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGKILL the server and reap it.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("server is not running");
        child.kill().expect("kill -9 the server");
        child.wait().expect("wait for the killed server");
    }

    /// Lets `clients` (tasks writing until their connection fails) run for `first`, SIGKILLs the
    /// server, and waits for every client to stop.
    pub async fn kill9_while(&mut self, first: Duration, clients: Vec<tokio::task::JoinHandle<()>>) {
        tokio::time::sleep(first).await;
        self.kill9();
        for t in clients {
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .expect("clients stop after the kill")
                .expect("client task");
        }
    }

    /// Sends a signal (`TERM`, `INT`, ...) to the server process.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill").args(["-s", sig, &self.pid().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -s {sig}");
    }

    /// Waits up to the shutdown timeout for the process to exit; its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is not running");
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not exit within {SHUTDOWN_TIMEOUT:?}\n{}", server_output(&self.dir));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Start again on the same directory after [`kill9`](Self::kill9) or
    /// [`shutdown`](Self::shutdown).
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "server is still running");
        self.launch();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP/1.1 GET (or another method) on loopback: (status, body); None if the connection
/// fails.
pub fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(RESPONSE_TIMEOUT)).ok()?;
    s.write_all(format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// The `name:value` fields of an INFO reply.
pub fn info_fields(info: &str) -> std::collections::HashMap<String, String> {
    info.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `# Title` lines of an INFO reply, lower-cased, in order.
pub fn info_sections(info: &str) -> Vec<String> {
    info.lines().filter_map(|l| l.strip_prefix("# ")).map(|t| t.trim().to_ascii_lowercase()).collect()
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

/// A reply, simplified for exact assertions. Errors carry their full text (`ERR ...`).
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Nil,
    Int(i64),
    Bulk(Vec<u8>),
    Status(String),
    Err(String),
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Bool(bool),
    Other(String),
}

impl Reply {
    /// The bulk string as UTF-8; panics on any other reply.
    pub fn text(&self) -> String {
        match self {
            Reply::Bulk(b) => String::from_utf8(b.clone()).expect("utf-8 bulk"),
            Reply::Status(s) => s.clone(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(i) => *i,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    pub fn array(&self) -> Vec<Reply> {
        match self {
            Reply::Array(a) => a.clone(),
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// The elements of an array of bulk strings, as UTF-8 strings.
    pub fn strings(&self) -> Vec<String> {
        self.array().iter().map(Reply::text).collect()
    }

    pub fn is_err(&self) -> bool {
        matches!(self, Reply::Err(_))
    }
}

fn error_text(code: Option<&str>, detail: Option<&str>) -> String {
    match (code, detail) {
        (Some(c), Some(d)) => format!("{c} {d}"),
        (Some(c), None) => c.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => String::new(),
    }
}

pub fn to_reply(v: Value) -> Reply {
    match v {
        Value::Nil => Reply::Nil,
        Value::Int(i) => Reply::Int(i),
        Value::BulkString(b) => Reply::Bulk(b),
        Value::SimpleString(s) => Reply::Status(s),
        Value::Okay => Reply::Status("OK".into()),
        Value::Array(a) => Reply::Array(a.into_iter().map(to_reply).collect()),
        Value::Map(m) => Reply::Map(m.into_iter().map(|(k, v)| (to_reply(k), to_reply(v))).collect()),
        Value::Set(s) => Reply::Set(s.into_iter().map(to_reply).collect()),
        Value::Double(d) => Reply::Double(d),
        Value::Boolean(b) => Reply::Bool(b),
        Value::ServerError(e) => Reply::Err(error_text(Some(e.code()), e.details())),
        other => Reply::Other(format!("{other:?}")),
    }
}

fn build_cmd<T: AsRef<[u8]>>(args: &[T]) -> redis::Cmd {
    let mut c = redis::Cmd::new();
    for a in args {
        c.arg(a.as_ref());
    }
    c
}

fn result_to_reply(r: redis::RedisResult<Value>) -> Reply {
    match r {
        Ok(v) => to_reply(v),
        Err(e) if e.code().is_some() => Reply::Err(error_text(e.code(), e.detail())),
        Err(e) => panic!("client error (not a server reply): {e:?}"),
    }
}

/// Send one command (each element is one argument, binary safe) and return its reply.
pub async fn call<T: AsRef<[u8]>>(con: &mut redis::aio::MultiplexedConnection, args: &[T]) -> Reply {
    result_to_reply(build_cmd(args).query_async::<Value>(con).await)
}

/// Blocking variant of [`call`].
pub fn call_sync<T: AsRef<[u8]>>(con: &mut redis::Connection, args: &[T]) -> Reply {
    result_to_reply(build_cmd(args).query::<Value>(con))
}

pub fn ok() -> Reply {
    Reply::Status("OK".into())
}

pub fn status(s: &str) -> Reply {
    Reply::Status(s.into())
}

pub fn int(i: i64) -> Reply {
    Reply::Int(i)
}

pub fn nil() -> Reply {
    Reply::Nil
}

pub fn bulk<T: AsRef<[u8]>>(b: T) -> Reply {
    Reply::Bulk(b.as_ref().to_vec())
}

pub fn err(text: &str) -> Reply {
    Reply::Err(text.into())
}

pub fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

/// An array of bulk strings.
pub fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(bulk).collect())
}

/// `ERR wrong number of arguments for '<cmd>' command`
pub fn arity_err(cmd: &str) -> Reply {
    err(&format!("ERR wrong number of arguments for '{cmd}' command"))
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const SYNTAX: &str = "ERR syntax error";

/// Create a list at `key` with RPUSH. Returns false when the server has no lists yet (Strata
/// currently has strings only), so a test can skip its non-string part.
pub async fn make_list(con: &mut redis::aio::MultiplexedConnection, key: &str) -> bool {
    match call(con, &["RPUSH", key, "a", "b"]).await {
        Reply::Int(_) => true,
        Reply::Err(e) if e.starts_with("ERR unknown command") => false,
        other => panic!("unexpected RPUSH reply {other:?}"),
    }
}

/// Poll `f` until it returns true or `timeout` passes; returns the last result.
pub async fn eventually<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Raw sockets
// ---------------------------------------------------------------------------------------------

/// Encode a command as a RESP array of bulk strings.
pub fn resp<T: AsRef<[u8]>>(args: &[T]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A plain TCP connection with helpers to write bytes and read exact replies.
pub struct RawConn {
    reader: BufReader<TcpStream>,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect raw socket");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("set read timeout");
        s.set_nodelay(true).expect("nodelay");
        RawConn { reader: BufReader::new(s) }
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    pub fn set_read_timeout(&self, t: Duration) {
        self.stream().set_read_timeout(Some(t)).expect("timeout");
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("write to server");
    }

    /// Write, tolerating a connection the server already closed.
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.reader.get_mut().write_all(bytes)
    }

    /// Read one line without its CRLF; panics on EOF.
    pub fn read_line(&mut self) -> String {
        let mut buf = Vec::new();
        let n = self.reader.read_until(b'\n', &mut buf).expect("read line from server");
        assert!(n > 0, "connection closed while expecting a line");
        assert!(buf.ends_with(b"\r\n"), "line not ended by CRLF: {buf:?}");
        buf.truncate(buf.len() - 2);
        String::from_utf8(buf).expect("utf-8 line")
    }

    /// Read exactly `n` bytes.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.reader.read_exact(&mut buf).expect("read exact bytes from server");
        buf
    }

    /// Read exactly `expected.len()` bytes and compare them with `expected`.
    pub fn expect(&mut self, expected: &[u8]) {
        let got = self.read_exact(expected.len());
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
    }

    /// Read and discard until the server closes the connection (or 10 s pass, which panics).
    pub fn read_until_closed(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => rest,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => rest,
            Err(e) => panic!("connection not closed by the server: {e}"),
        }
    }

    /// Assert that the server closes the connection with nothing more to read.
    pub fn expect_closed(&mut self) {
        let rest = self.read_until_closed();
        assert!(rest.is_empty(), "unexpected bytes before close: {:?}", String::from_utf8_lossy(&rest));
    }

    /// Read one complete RESP2/RESP3 reply.
    pub fn read_reply(&mut self) -> Reply {
        let line = self.read_line();
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
                let mut b = self.read_exact(n as usize + 2);
                assert!(b.ends_with(b"\r\n"), "bulk not ended by CRLF");
                b.truncate(n as usize);
                Reply::Bulk(b)
            }
            "*" | "~" | ">" => {
                let n: i64 = rest.parse().expect("array length");
                if n < 0 {
                    return Reply::Nil;
                }
                let items = (0..n).map(|_| self.read_reply()).collect();
                if t == "~" {
                    Reply::Set(items)
                } else {
                    Reply::Array(items)
                }
            }
            "%" => {
                let n: usize = rest.parse().expect("map length");
                Reply::Map((0..n).map(|_| (self.read_reply(), self.read_reply())).collect())
            }
            "_" => Reply::Nil,
            "#" => Reply::Bool(rest == "t"),
            "," => Reply::Double(rest.parse().expect("double")),
            other => Reply::Other(format!("{other}{rest}")),
        }
    }

    /// Send one command as RESP and read its reply.
    pub fn call<T: AsRef<[u8]>>(&mut self, args: &[T]) -> Reply {
        self.send(&resp(args));
        self.read_reply()
    }

    pub fn shutdown_write(&self) {
        let _ = self.stream().shutdown(Shutdown::Write);
    }
}

// ---- Blocked clients ------------------------------------------------------------------------

/// `blocked_clients` of INFO.
pub async fn blocked_clients(c: &mut redis::aio::MultiplexedConnection) -> i64 {
    let info = call(c, &["INFO", "clients"]).await.text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO")
}

/// Waits until exactly `n` clients are blocked (so the order of arrival is known).
pub async fn until_blocked(c: &mut redis::aio::MultiplexedConnection, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = blocked_clients(c).await;
        if now == n {
            return;
        }
        assert!(Instant::now() < deadline, "expected {n} blocked clients, have {now}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs one command on a fresh connection in the background (with a response timeout longer
/// than the blocking timeouts tests use).
pub fn spawn_call(s: &TestServer, args: &[&str]) -> tokio::task::JoinHandle<Reply> {
    let client = s.redis_client();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::spawn(async move {
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(20)));
        let mut c = client.get_multiplexed_async_connection_with_config(&config).await.expect("connect");
        call(&mut c, &args).await
    })
}

/// Polls with PING until the server answers `busy` (a script has run past the threshold).
pub fn until_busy(c: &mut RawConn, busy: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.call(&["PING"]) {
            Reply::Err(e) if e == busy => return,
            Reply::Status(p) if p == "PONG" => {}
            other => panic!("unexpected reply while waiting for BUSY: {other:?}"),
        }
        assert!(Instant::now() < deadline, "the server never reported BUSY");
        std::thread::sleep(Duration::from_millis(20));
    }
}
