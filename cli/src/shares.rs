//! Gathering two (or three) shares of an account's rotation key for `pdsctl recover` and
//! `pdsctl backup rotate`, and putting the key back together in memory.
//!
//! Sources: this machine's keychain (Share 1), the relay's escrow (Share 2, released for
//! the account password), a share file (`pds-share-v1:` text), and the 24 words of a
//! recovery sheet, typed (with completion; a wrong word is named by its position) or read
//! from a words file. Typed words carry only the share value; the share's set, epoch and
//! public key come from the other share given, so the words always need a second share
//! (a sheet alone can never recover, which is the point of 2-of-3).
//!
//! The key exists only in memory, as a zeroizing `Keypair`; combining is
//! `pds::secret::combine`, which refuses shares of different sets and checks the result
//! against the did:key the shares carry.

use crate::ctx::Ctx;
use crate::error::CliError;
use crate::keychain::Keychain;
use crate::relay::RelayClient;
use pds::crypto::Keypair;
use pds::secret::{MnemonicError, Share, ShareWords};
use std::path::PathBuf;
use std::str::FromStr;
use zeroize::Zeroizing;

/// Where one share comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// This machine's keychain (or its 0600 file).
    Keychain,
    /// The relay's escrow (needs the account password).
    Relay,
    /// A share file.
    File(PathBuf),
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Source, String> {
        Ok(match s {
            "keychain" => Source::Keychain,
            "relay" => Source::Relay,
            "" => return Err("a share source is keychain, relay or a file".into()),
            path => Source::File(PathBuf::from(path)),
        })
    }
}

/// Where the sheet's words come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Words {
    None,
    /// Typed at the terminal.
    Prompt,
    /// A file holding the 24 words (numbering and line breaks are fine).
    File(PathBuf),
}

/// What to gather.
#[derive(Debug, Clone)]
pub struct Request {
    pub did: String,
    pub sources: Vec<Source>,
    pub words: Words,
    /// The number of the share the words are (3 on a sheet from `backup create`).
    pub words_share: u8,
    /// The account password for the relay's escrow.
    pub password_file: Option<PathBuf>,
}

/// One gathered share and where it came from.
#[derive(Debug)]
pub struct Gathered {
    pub share: Share,
    pub from: String,
}

/// Read the words of a sheet: errors name positions, never words.
pub fn parse_words(text: &str) -> Result<ShareWords, CliError> {
    ShareWords::parse(text).map_err(|e| {
        CliError::Failed(match e {
            MnemonicError::UnknownWords { .. } => {
                format!("{e} (count the words on the sheet from 1; nothing else was checked yet)")
            }
            other => other.to_string(),
        })
    })
}

struct WordCompletion;

impl dialoguer::Completion for WordCompletion {
    fn get(&self, input: &str) -> Option<String> {
        match pds::secret::complete(input.trim()).as_slice() {
            [one] => Some((*one).to_string()),
            _ => None,
        }
    }
}

/// Ask for 24 words, one at a time, with completion (Tab) and a check of each word.
fn prompt_words(ctx: &Ctx) -> Result<ShareWords, CliError> {
    if !ctx.can_prompt() {
        return Err(CliError::NeedsAnswer(
            "typing the sheet's words needs a terminal; give them with --words-file FILE".into(),
        ));
    }
    let completion = WordCompletion;
    let mut phrase = Zeroizing::new(String::new());
    for n in 1..=pds::secret::mnemonic::SHARE_WORD_COUNT {
        let word: String = dialoguer::Input::new()
            .with_prompt(format!("Word {n:>2}"))
            .completion_with(&completion)
            .validate_with(|w: &String| -> Result<(), String> {
                if pds::secret::mnemonic::find_word(w).is_some() {
                    return Ok(());
                }
                let close = pds::secret::complete(w.trim().get(..2).unwrap_or(w.trim()));
                Err(format!(
                    "word {n} is not a BIP-39 word{}",
                    if close.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; words starting like it: {}",
                            close.iter().take(8).copied().collect::<Vec<_>>().join(", ")
                        )
                    }
                ))
            })
            .interact_text()
            .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))?;
        let word = Zeroizing::new(word);
        phrase.push_str(&word);
        phrase.push(' ');
    }
    parse_words(&phrase)
}

async fn from_relay(
    ctx: &Ctx,
    relay: Option<&RelayClient>,
    did: &str,
    password_file: Option<&std::path::Path>,
) -> Result<Share, CliError> {
    let relay = relay.ok_or_else(|| {
        CliError::Usage("the relay's share needs a relay: give --relay URL".into())
    })?;
    let password = crate::device_opts::password(ctx, password_file, did)?;
    let text = relay.release_share(did, &password).await?;
    Share::from_text(&text)
        .map_err(|e| CliError::Failed(format!("the relay's share is damaged: {e}")))
}

/// Gather the requested shares (in order; the words last).
pub async fn gather(
    ctx: &Ctx,
    keychain: &Keychain,
    relay: Option<&RelayClient>,
    req: &Request,
) -> Result<Vec<Gathered>, CliError> {
    let mut out: Vec<Gathered> = Vec::new();
    for source in &req.sources {
        let g = match source {
            Source::Keychain => {
                let (share, place) = keychain.load(&req.did)?.ok_or_else(|| {
                    CliError::Failed(format!(
                        "this machine's keychain holds no share of {}",
                        req.did
                    ))
                })?;
                Gathered {
                    share,
                    from: format!("keychain ({place})"),
                }
            }
            Source::Relay => Gathered {
                share: from_relay(ctx, relay, &req.did, req.password_file.as_deref()).await?,
                from: "relay escrow".into(),
            },
            Source::File(p) => {
                let text = Zeroizing::new(
                    std::fs::read_to_string(p)
                        .map_err(CliError::io(format!("cannot read {}", p.display())))?,
                );
                let share = Share::from_text(&text).map_err(|e| {
                    CliError::Failed(format!("{} is not a share file: {e}", p.display()))
                })?;
                Gathered {
                    share,
                    from: format!("file {}", p.display()),
                }
            }
        };
        out.push(g);
    }
    let words = match &req.words {
        Words::None => None,
        Words::Prompt => Some((prompt_words(ctx)?, "typed words".to_string())),
        Words::File(p) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(p)
                    .map_err(CliError::io(format!("cannot read {}", p.display())))?,
            );
            Some((parse_words(&text)?, format!("words in {}", p.display())))
        }
    };
    if let Some((words, from)) = words {
        let like = out.first().ok_or_else(|| {
            CliError::Failed(
                "the sheet's words alone cannot recover the key (any 2 of the 3 shares do): \
                 give a second share with --share keychain|relay|FILE"
                    .into(),
            )
        })?;
        let s = &like.share;
        let share = Share::from_sheet_fields(
            &words,
            s.set_id(),
            req.words_share,
            s.epoch(),
            s.curve(),
            &s.did_key(),
        )
        .map_err(|e| CliError::Failed(format!("the sheet's share: {e}")))?;
        out.push(Gathered { share, from });
    }
    Ok(out)
}

/// Put the key back together from `gathered` (in memory only).
pub fn combine(gathered: &[Gathered]) -> Result<Keypair, CliError> {
    pds::secret::combine(gathered.iter().map(|g| &g.share)).map_err(|e| {
        let from: Vec<&str> = gathered.iter().map(|g| g.from.as_str()).collect();
        CliError::Failed(format!("{e} (shares from: {})", from.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert_eq!("keychain".parse::<Source>(), Ok(Source::Keychain));
        assert_eq!("relay".parse::<Source>(), Ok(Source::Relay));
        assert_eq!(
            "./s.share".parse::<Source>(),
            Ok(Source::File(PathBuf::from("./s.share")))
        );
        assert!("".parse::<Source>().is_err());
    }

    #[test]
    fn a_wrong_word_is_named_by_its_position() {
        let key = Keypair::generate(pds::crypto::Curve::Secp256k1);
        let shares = pds::secret::split(&key, 1).expect("split");
        let phrase = shares[2].reveal_words().reveal_phrase();
        let mut words: Vec<&str> = phrase.split(' ').collect();
        words[6] = "notaword";
        let err = parse_words(&words.join(" ")).expect_err("wrong word");
        assert!(err.to_string().contains("word 7"), "{err}");
    }

    #[test]
    fn one_share_alone_is_refused_clearly() {
        let key = Keypair::generate(pds::crypto::Curve::Secp256k1);
        let shares = pds::secret::split(&key, 1).expect("split");
        let [a, _, _] = shares;
        let err = combine(&[Gathered {
            share: a,
            from: "keychain".into(),
        }])
        .expect_err("one share");
        assert!(err.to_string().contains("keychain"), "{err}");
    }
}
