//! Sorted-set commands, including BZPOPMIN, BZPOPMAX and BZMPOP.

use super::CommandSpec;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[];
