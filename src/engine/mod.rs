//! The Go-compatibility layer over gotmpl: loading a template set, Go's
//! escaping and value printing, `block` definitions, and the bounds on
//! every render.

pub(crate) mod blocks;
pub(crate) mod contexts;
pub mod escape;
pub(crate) mod gocompat;
pub(crate) mod gofmt;
pub mod limits;
pub(crate) mod rawbytes;
pub mod set;
pub(crate) mod tree;
