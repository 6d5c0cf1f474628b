//! What every command receives: the client, and the rules of the conversation with the
//! person or script at the other end (`--json`, `--yes`, terminals). Commands print only
//! through [`Ctx::emit`], ask only through [`Ctx::confirm`] and [`Ctx::new_password`], and
//! show progress only through [`Ctx::progress`], so `--json` and `--yes` hold everywhere.

use crate::client::Client;
use crate::error::CliError;
use pds::admin::Password;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;

/// The command's environment.
#[derive(Debug)]
pub struct Ctx {
    pub client: Client,
    /// One JSON document on stdout instead of text.
    pub json: bool,
    /// Never prompt.
    pub yes: bool,
    /// Where device commands talk to (`--relay`), when given.
    pub relay: Option<String>,
    /// The PLC directory (`--plc-url`), when given.
    pub plc_url: Option<String>,
    /// pdsctl's data folder.
    pub data_dir: PathBuf,
    /// Where Share 1 lives.
    pub keychain: crate::keychain::Mode,
}

/// pdsctl's default data folder.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "pdsctl")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".pdsctl"))
}

impl Ctx {
    /// Print the result: as JSON with `--json`, else as the text `human` renders.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> Result<(), CliError> {
        if self.json {
            let text = serde_json::to_string_pretty(value)
                .map_err(|e| CliError::Failed(format!("cannot render JSON: {e}")))?;
            println!("{text}");
        } else {
            let text = human(value);
            if !text.is_empty() {
                println!("{}", text.trim_end());
            }
        }
        Ok(())
    }

    /// Whether a person can be asked: a terminal on stdin and stderr, and no `--yes`.
    pub fn can_prompt(&self) -> bool {
        !self.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    /// Ask before something irreversible. `--yes` answers yes; without a terminal (and
    /// without `--yes`) this fails rather than guess.
    pub fn confirm(&self, question: &str) -> Result<bool, CliError> {
        if self.yes {
            return Ok(true);
        }
        if !self.can_prompt() {
            return Err(CliError::NeedsAnswer(format!(
                "{question} (no terminal to ask on; pass --yes to confirm)"
            )));
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))
    }

    /// Ask for a new password twice. Fails under `--yes` or without a terminal, naming
    /// the option that supplies it instead.
    pub fn new_password(&self, for_whom: &str, option: &str) -> Result<Password, CliError> {
        if !self.can_prompt() {
            let why = if self.yes {
                "--yes forbids asking"
            } else {
                "there is no terminal to ask on"
            };
            return Err(CliError::NeedsAnswer(format!(
                "a password for {for_whom} is needed and {why}; give it with {option} FILE"
            )));
        }
        dialoguer::Password::new()
            .with_prompt(format!("Password for {for_whom}"))
            .with_confirmation("Repeat it", "The passwords differ; try again")
            .validate_with(|p: &String| check_password(p))
            .interact()
            .map(Password::new)
            .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))
    }

    /// A password for `for_whom`: from `file` when given, else asked once (no
    /// confirmation: it is an existing password). Fails under `--yes` or without a
    /// terminal, naming `option`.
    pub fn password(
        &self,
        file: Option<&std::path::Path>,
        for_whom: &str,
        option: &str,
    ) -> Result<Password, CliError> {
        if let Some(f) = file {
            return password_from_file(f);
        }
        if !self.can_prompt() {
            return Err(CliError::NeedsAnswer(format!(
                "the password of {for_whom} is needed; give it with {option} FILE"
            )));
        }
        dialoguer::Password::new()
            .with_prompt(format!("Password of {for_whom}"))
            .interact()
            .map(Password::new)
            .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))
    }

    /// Say something to the person (stderr), unless `--json` keeps stderr for errors.
    pub fn note(&self, text: &str) {
        if !self.json {
            eprintln!("{text}");
        }
    }

    /// The relay's public URL: `--relay`, else the local pdsd's (through the socket).
    pub async fn relay_url(&self) -> Result<String, CliError> {
        if let Some(r) = &self.relay {
            return Ok(r.trim_end_matches('/').to_string());
        }
        match self.client.status().await {
            Ok(s) => Ok(s.listen.public_url.trim_end_matches('/').to_string()),
            Err(e) => Err(CliError::Usage(format!(
                "which relay? Give its URL with --relay URL (or $PDSCTL_RELAY); the local pdsd \
                 did not answer: {e}"
            ))),
        }
    }

    /// The public URL of the pdsd behind the local socket, when one answers.
    pub async fn local_public_url(&self) -> Option<String> {
        self.client
            .status()
            .await
            .ok()
            .map(|s| s.listen.public_url.trim_end_matches('/').to_string())
    }

    /// The PLC directory: `--plc-url`, else the local pdsd's, else the public one.
    pub async fn plc_url(&self) -> String {
        if let Some(p) = &self.plc_url {
            return p.trim_end_matches('/').to_string();
        }
        match self.client.status().await {
            Ok(s) if !s.plc_directory.is_empty() => {
                s.plc_directory.trim_end_matches('/').to_string()
            }
            _ => "https://plc.directory".to_string(),
        }
    }

    /// A progress bar on stderr when a person is watching; hidden otherwise.
    pub fn progress(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(len);
        let style = indicatif::ProgressStyle::with_template(
            "{msg:12} [{bar:30}] {bytes}/{total_bytes} ({eta})",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_string());
        bar
    }
}

/// The minimum a password must meet before it is sent.
pub fn check_password(p: &str) -> Result<(), String> {
    if p.chars().count() < 8 {
        return Err("use at least 8 characters".into());
    }
    Ok(())
}

/// Read a password from a file (the first line; a trailing newline is not part of it).
pub fn password_from_file(path: &std::path::Path) -> Result<Password, CliError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?,
    );
    let line = text.lines().next().unwrap_or("");
    check_password(line)
        .map_err(|m| CliError::Failed(format!("the password in {}: {m}", path.display())))?;
    Ok(Password::new(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_takes_the_first_line_and_checks_length() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("pw");
        std::fs::write(&p, "correct horse\n").expect("write");
        assert_eq!(
            password_from_file(&p).expect("read").expose(),
            "correct horse"
        );
        std::fs::write(&p, "short\n").expect("write");
        assert!(password_from_file(&p).is_err());
        assert!(password_from_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn prompts_fail_under_yes() {
        let ctx = Ctx {
            client: Client::new("/nonexistent".into()),
            json: false,
            yes: true,
            relay: None,
            plc_url: None,
            data_dir: PathBuf::from("/nonexistent"),
            keychain: crate::keychain::Mode::File,
        };
        assert!(ctx.confirm("delete?").expect("yes answers"));
        let err = ctx
            .new_password("alice.test", "--password-file")
            .expect_err("must not ask");
        assert!(matches!(err, CliError::NeedsAnswer(_)));
        assert!(err.to_string().contains("--password-file"));
    }
}
