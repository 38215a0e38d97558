//! Typed stores: the semantics of each data type over the metadata/subkey encodings.

pub mod string;
