//! Re-exports uow-core, as an application's shared crate might.
pub use uow_core;
