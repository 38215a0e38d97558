//! Engine tests against a fake host. Expected values were taken from redis-server 7.0.15.

mod conversions;
mod eval;
mod functions;
mod libraries;

use std::collections::HashMap;

use bytes::Bytes;

use super::*;

/// A host with a tiny key space (GET, SET, INCR, LPUSH, PING) and canned replies
/// (`REPLY <kind>`), recording every call and log line.
#[derive(Default)]
pub(super) struct FakeHost {
    pub(super) data: HashMap<Vec<u8>, Vec<u8>>,
    pub(super) lists: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    pub(super) calls: Vec<Vec<Bytes>>,
    pub(super) logs: Vec<(u8, String)>,
    pub(super) checks: usize,
    /// `check` fails with this text once it has been called this many times.
    pub(super) fail_check_after: Option<(usize, String)>,
    pub(super) resp_set: Vec<u8>,
}

impl Host for FakeHost {
    fn call(&mut self, args: Vec<Bytes>) -> Reply {
        self.calls.push(args.clone());
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let arg = |i: usize| args.get(i).map(|a| a.to_vec()).unwrap_or_default();
        match name.as_str() {
            "ping" => Reply::Simple("PONG"),
            "set" => {
                self.data.insert(arg(1), arg(2));
                Reply::Ok
            }
            "get" => match self.data.get(&arg(1)) {
                Some(v) => Reply::bulk(v.clone()),
                None => Reply::Null,
            },
            "incr" => {
                let v = self.data.get(&arg(1)).map(|v| String::from_utf8_lossy(v).parse::<i64>());
                match v {
                    None => {
                        self.data.insert(arg(1), b"1".to_vec());
                        Reply::Int(1)
                    }
                    Some(Ok(n)) => {
                        self.data.insert(arg(1), (n + 1).to_string().into_bytes());
                        Reply::Int(n + 1)
                    }
                    Some(Err(_)) => Reply::error("ERR value is not an integer or out of range"),
                }
            }
            "lpush" => {
                if self.data.contains_key(&arg(1)) {
                    return Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value");
                }
                let list = self.lists.entry(arg(1)).or_default();
                for a in &args[2..] {
                    list.insert(0, a.to_vec());
                }
                Reply::Int(list.len() as i64)
            }
            "reply" => match &*arg(1) {
                b"map" => Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1)), (Reply::bulk("b"), Reply::Int(2))]),
                b"set" => Reply::Set(vec![Reply::bulk("x"), Reply::bulk("y")]),
                b"double" => Reply::Double(3.5),
                b"true" => Reply::Bool(true),
                b"false" => Reply::Bool(false),
                b"null" => Reply::Null,
                b"nullarray" => Reply::NullArray,
                b"verbatim" => Reply::Verbatim("txt", Bytes::from_static(b"hello")),
                b"nested" => Reply::Array(vec![
                    Reply::Int(1),
                    Reply::Array(vec![Reply::bulk("a"), Reply::Null]),
                    Reply::error("ERR inner"),
                ]),
                b"bulkarray" => {
                    let mut a = crate::reply::BulkArray::with_capacity(16);
                    a.push(b"one");
                    a.push(b"");
                    a.push(b"three");
                    Reply::BulkArray(a)
                }
                b"nospace" => Reply::error("NOSPACE"),
                b"status" => Reply::SimpleOwned("QUEUED".to_owned()),
                _ => Reply::error("ERR unknown canned reply"),
            },
            _ => Reply::error("ERR Unknown Redis command called from script"),
        }
    }

    fn check(&mut self) -> Result<(), String> {
        self.checks += 1;
        match &self.fail_check_after {
            Some((n, text)) if self.checks >= *n => Err(text.clone()),
            _ => Ok(()),
        }
    }

    fn log(&mut self, level: u8, msg: &str) {
        self.logs.push((level, msg.to_owned()));
    }

    fn set_resp(&mut self, resp: u8) {
        self.resp_set.push(resp);
    }
}

pub(super) fn engine() -> Engine {
    Engine::new().unwrap()
}

pub(super) fn eval_in(engine: &mut Engine, host: &mut FakeHost, script: &str, keys: &[&str], argv: &[&str]) -> Reply {
    let keys: Vec<Bytes> = keys.iter().map(|k| Bytes::copy_from_slice(k.as_bytes())).collect();
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
    engine.eval(&sha1_hex(script.as_bytes()), script.as_bytes(), &keys, &argv, host)
}

pub(super) fn eval(script: &str) -> Reply {
    eval_in(&mut engine(), &mut FakeHost::default(), script, &[], &[])
}

pub(super) fn bulk(s: &str) -> Reply {
    Reply::bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// The error text Redis gives for a script failing on line 1.
pub(super) fn script_error(script: &str, msg: &str) -> Reply {
    Reply::Error(format!("{msg} script: {}, on @user_script:1.", sha1_hex(script.as_bytes())))
}

pub(super) fn assert_script_error(script: &str, msg: &str) {
    assert_eq!(eval(script), script_error(script, msg), "script: {script}");
}
