//! Placeholder for the Lua engine (replaced by the real one): every script fails.

use crate::reply::Reply;
use bytes::Bytes;

pub trait Host {
    fn call(&mut self, args: Vec<Bytes>) -> Reply;
    fn check(&mut self) -> Result<(), String>;
    fn log(&mut self, level: u8, msg: &str);
}

pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    pub flags: Vec<String>,
}

pub struct Library {
    pub name: String,
    pub engine: &'static str,
    pub functions: Vec<FunctionInfo>,
}

pub struct Engine;

impl Engine {
    pub fn new() -> Result<Engine, String> {
        Ok(Engine)
    }
    pub fn eval(&mut self, _sha: &str, _body: &[u8], _keys: &[Bytes], _argv: &[Bytes], _host: &mut dyn Host) -> Reply {
        Reply::error("ERR scripting not available")
    }
    pub fn compile(&mut self, _sha: &str, _body: &[u8]) -> Result<(), String> {
        Ok(())
    }
    pub fn load_library(&mut self, _code: &[u8]) -> Result<Library, String> {
        Err("ERR scripting not available".into())
    }
    pub fn fcall(&mut self, _l: &str, _n: &str, _k: &[Bytes], _a: &[Bytes], _h: &mut dyn Host) -> Reply {
        Reply::error("ERR scripting not available")
    }
}

pub fn sha1_hex(data: &[u8]) -> String {
    format!("{:040x}", data.len())
}
