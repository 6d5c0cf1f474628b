//! pdsctl's failures, and how each becomes an exit status (1 failure, 2 usage) and a
//! stable error name in `--json` output. Messages are for people: they say what to do.

use crate::client::ClientError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
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
    /// The relay (a pdsd over HTTP) answered with an error.
    #[error("{message}")]
    Relay {
        status: u16,
        name: String,
        message: String,
    },
    /// The relay could not be reached.
    #[error("cannot reach the relay at {url}: {message}")]
    Unreachable { url: String, message: String },
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
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    /// A stable name for `--json` output.
    pub fn name(&self) -> &str {
        match self {
            CliError::Client(e) => e.name(),
            CliError::Usage(_) => "Usage",
            CliError::NeedsAnswer(_) => "NeedsAnswer",
            CliError::Failed(_) => "Failed",
            CliError::Io { .. } => "IoError",
            CliError::Relay { name, .. } => name,
            CliError::Unreachable { .. } => "RelayUnreachable",
        }
    }
}
