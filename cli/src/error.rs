//! pdsctl's failures, and how each becomes an exit status (1 failure, 2 usage) and a
//! stable error name in `--json` output. Messages are for people: they say what to do.

use crate::client::ClientError;
use crate::relay::RelayError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A relay's device API (pdsctl acting as a device).
    #[error(transparent)]
    Relay(#[from] RelayError),
    /// The command line was fine for clap but not usable (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A prompt was needed but `--yes` (or no terminal) forbids asking.
    #[error("{0}")]
    NeedsAnswer(String),
    /// Anything else that failed (exit 1).
    #[error("{0}")]
    Failed(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl CliError {
    /// An I/O failure with what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let what = what.into();
        move |source| CliError::Io { what, source }
    }

    /// The process's exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Relay(RelayError::BadUrl(_)) => 2,
            _ => 1,
        }
    }

    /// A stable name for `--json` output.
    pub fn name(&self) -> &str {
        match self {
            CliError::Client(e) => e.name(),
            CliError::Relay(e) => e.name(),
            CliError::Usage(_) => "Usage",
            CliError::NeedsAnswer(_) => "NeedsAnswer",
            CliError::Failed(_) => "Failed",
            CliError::Io { .. } => "IoError",
        }
    }
}
