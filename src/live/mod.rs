//! Loading a renderer from its sources and keeping it current: the builder
//! that names the sources, the store that holds the current generation, the
//! watcher that reloads it, and the live renderer over them.

pub mod builder;
#[cfg(feature = "watch")]
mod renderer;
pub mod store;
#[cfg(feature = "watch")]
pub mod watch;

#[cfg(feature = "watch")]
pub use renderer::LiveRenderer;
