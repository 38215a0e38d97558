//! SORT and SORT_RO over lists, sets and sorted sets.

use super::CommandSpec;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[];
