//! Set commands: SADD and friends, set algebra and their STORE forms.

use super::CommandSpec;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[];
