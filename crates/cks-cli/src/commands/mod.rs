//! Command implementations, one module per subcommand group.

pub mod fetch;
pub mod iso;
