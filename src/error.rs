//! The errors a command can reply with, each carrying Redis's exact text.
//!
//! One enum for the whole command layer: `Display` is the reply text without the leading `-`.
//! Internal failures reply `ERR internal error` and are logged with their detail where they occur.

use crate::storage::backup::SaveError;
use crate::storage::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CmdError {
    /// The key holds another type.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// An argument that must be an integer is not one, or is out of range.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// An argument that must be a float is not one.
    #[error("ERR value is not a valid float")]
    NotFloat,
    /// Unknown option or options in the wrong place.
    #[error("ERR syntax error")]
    Syntax,
    /// RENAME and friends on a missing key.
    #[error("ERR no such key")]
    NoSuchKey,
    /// INCR past i64.
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    /// A bad expire time in the named command.
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(&'static str),
    /// Wrong number of arguments for the named command (Redis's lower-case full name).
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    /// A string would exceed `proto-max-bulk-len`.
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    /// SELECT/MOVE/SWAPDB with a database out of range.
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    /// A command that needs authentication first.
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    /// Wrong password.
    #[error("WRONGPASS invalid username-password pair or user is disabled.")]
    WrongPass,
    /// Any other `ERR ...` text, verbatim (without the `ERR ` prefix).
    #[error("ERR {0}")]
    Err(String),
    /// A full error text with its own prefix (e.g. `NOPROTO ...`).
    #[error("{0}")]
    Raw(String),
    /// A command that may add data while the data set is over `maxmemory` and nothing is left
    /// to evict.
    #[error("OOM command not allowed when used memory > 'maxmemory'.")]
    Oom,
    /// Storage failed; the detail was logged.
    #[error("ERR internal error")]
    Internal,
    /// SAVE or BGSAVE while a background save runs.
    #[error("ERR Background save already in progress")]
    BgsaveInProgress,
    /// SAVE (or starting BGSAVE) failed: Redis's bare `-ERR`; the detail was logged.
    #[error("ERR")]
    SaveFailed,
    /// The command needs disk I/O and was run on the network thread: not a reply, a request to
    /// run it again on a blocking thread (see `server::exec`).
    #[error("ERR internal error (would block)")]
    WouldBlock,
    /// A blocking command (BLPOP, BZPOPMIN, ...) found nothing to serve: not a reply, a request
    /// to wait until one of its keys is written or the timeout passes, then run it again (see
    /// `server::connection`).
    #[error("ERR internal error (blocked)")]
    Blocked(BlockOn),
    /// A script stopped by SCRIPT KILL / FUNCTION KILL (or SHUTDOWN), with its error text: its
    /// writes are discarded, and inside MULTI/EXEC so is the whole transaction's.
    #[error("{0}")]
    ScriptKilled(String),
}

/// What a blocked command waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOn {
    /// The keys (of the client's current database) whose writes may serve it.
    pub keys: Vec<bytes::Bytes>,
    /// How long to wait from the first attempt; None = forever (a timeout of 0).
    pub timeout: Option<std::time::Duration>,
    /// The reply on timeout: a null array (BLPOP, BZPOPMIN, BLMPOP) or a null bulk (BLMOVE).
    pub null_array: bool,
    /// The arguments to run the command with when woken, if not the original ones (XREAD's `$`
    /// becomes the last ID at the first attempt, so entries added meanwhile are not missed).
    pub rerun_args: Option<Vec<bytes::Bytes>>,
}

impl CmdError {
    pub fn err(text: impl Into<String>) -> CmdError {
        CmdError::Err(text.into())
    }
}

impl From<SaveError> for CmdError {
    fn from(e: SaveError) -> CmdError {
        match e {
            SaveError::InProgress => CmdError::BgsaveInProgress,
            SaveError::Failed(_) => CmdError::SaveFailed,
        }
    }
}

impl From<StoreError> for CmdError {
    fn from(e: StoreError) -> CmdError {
        match e {
            StoreError::WouldBlock => CmdError::WouldBlock,
            StoreError::WrongType => CmdError::WrongType,
            StoreError::Corrupt(_) | StoreError::Rocks(_) => CmdError::Internal,
            // Redis's reply while its AOF can't be written (`writeCommandsDeniedByDiskError`).
            StoreError::DiskWrite(cause) => CmdError::Raw(format!("MISCONF Errors writing to the AOF file: {cause}")),
        }
    }
}

pub type CmdResult<T> = Result<T, CmdError>;
