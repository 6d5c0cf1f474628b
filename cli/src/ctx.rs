//! What every command receives: the client, and the rules of the conversation with the
//! person or script at the other end (`--json`, `--yes`, terminals). Commands print only
//! through [`Ctx::emit`], ask only through [`Ctx::confirm`] and [`Ctx::new_password`], and
//! show progress only through [`Ctx::progress`], so `--json` and `--yes` hold everywhere.

use crate::client::Client;
use crate::error::CliError;
use pds::admin::Password;
use serde::Serialize;
use std::io::IsTerminal;

/// The command's environment.
#[derive(Debug)]
pub struct Ctx {
    pub client: Client,
    /// One JSON document on stdout instead of text.
    pub json: bool,
    /// Never prompt.
    pub yes: bool,
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

    /// Ask for an existing password once (to sign in). Fails under `--yes` or without a
    /// terminal, naming the option that supplies it instead.
    pub fn password(&self, for_whom: &str, option: &str) -> Result<Password, CliError> {
        if !self.can_prompt() {
            let why = if self.yes {
                "--yes forbids asking"
            } else {
                "there is no terminal to ask on"
            };
            return Err(CliError::NeedsAnswer(format!(
                "the password of {for_whom} is needed and {why}; give it with {option} FILE"
            )));
        }
        dialoguer::Password::new()
            .with_prompt(format!("Password of {for_whom}"))
            .interact()
            .map(Password::new)
            .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))
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

/// Read a new password from a file (the first line; a trailing newline is not part of
/// it), checked against the minimum.
pub fn password_from_file(path: &std::path::Path) -> Result<Password, CliError> {
    let password = existing_password_from_file(path)?;
    check_password(password.expose())
        .map_err(|m| CliError::Failed(format!("the password in {}: {m}", path.display())))?;
    Ok(password)
}

/// Read an existing password (to sign in) from a file: its first line, unchecked.
pub fn existing_password_from_file(path: &std::path::Path) -> Result<Password, CliError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?,
    );
    Ok(Password::new(text.lines().next().unwrap_or("").to_string()))
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
        };
        assert!(ctx.confirm("delete?").expect("yes answers"));
        let err = ctx
            .new_password("alice.test", "--password-file")
            .expect_err("must not ask");
        assert!(matches!(err, CliError::NeedsAnswer(_)));
        assert!(err.to_string().contains("--password-file"));
    }
}
