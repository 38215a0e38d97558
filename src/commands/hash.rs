//! Hash commands: HSET and friends over `storage::types::hash`.

use super::CommandSpec;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[];
