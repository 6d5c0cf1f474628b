//! Recovery sheets: one share written out for paper, as plain text and as a single
//! printable HTML page.
//!
//! Owns the wording and layout of a sheet: the account (DID and handle), the set id, the
//! share number ("share 3 of 3 — any 2 recover"), the epoch and curve, the date, the 24
//! words in a numbered grid, the rotation key's did:key and short instructions. Together
//! the words, set id, share number, epoch, curve and did:key are exactly what
//! [`Share::from_sheet_fields`] needs, so a sheet alone rebuilds its share.
//!
//! It must not load anything: the HTML page has no external resources and no script (its
//! Content-Security-Policy forbids both), and every interpolated value is HTML-escaped.
//! Control and bidirectional-override characters in the account fields are replaced in
//! both forms, so a hostile handle can neither drive a terminal nor reorder what is
//! printed. It does no I/O; the caller writes the returned text where the user chose.

use std::fmt::Write as _;

use chrono::NaiveDate;
use zeroize::Zeroizing;

use super::mnemonic::SHARE_WORD_COUNT;
use super::shamir::{SHARE_COUNT, Share};

/// The command a sheet tells the user to run.
pub const RECOVER_COMMAND: &str = "pdsctl recover";

const TEXT_WIDTH: usize = 72;

/// One share, ready to print. Debug shows no words.
#[derive(Debug)]
pub struct RecoverySheet<'a> {
    share: &'a Share,
    did: &'a str,
    handle: &'a str,
    date: NaiveDate,
}

impl<'a> RecoverySheet<'a> {
    /// A sheet for `share` of the account `did` / `handle`, dated `date`.
    pub fn new(share: &'a Share, did: &'a str, handle: &'a str, date: NaiveDate) -> Self {
        RecoverySheet {
            share,
            did,
            handle,
            date,
        }
    }

    fn share_line(&self) -> String {
        format!(
            "Share {} of {} \u{2014} any {} recover",
            self.share.index(),
            SHARE_COUNT,
            self.share.threshold()
        )
    }

    fn handle_shown(&self) -> String {
        let h = printable(self.handle.trim());
        if h.is_empty() || h.starts_with('@') {
            h
        } else {
            format!("@{h}")
        }
    }

    /// The sheet as plain text, at most 72 columns wide (longer account names wrap).
    pub fn reveal_text(&self) -> Zeroizing<String> {
        let share = self.share;
        let mut out = Zeroizing::new(String::with_capacity(
            8192 + 4 * (self.did.len() + self.handle.len()),
        ));
        let title = format!("PDS RECOVERY SHEET \u{2014} {}", self.share_line());
        let fields: [(&str, String); 8] = [
            ("Account", self.handle_shown()),
            ("DID", printable(self.did.trim())),
            ("Share number", share.index().to_string()),
            ("Set", share.set_id().to_string()),
            ("Epoch", share.epoch().to_string()),
            ("Curve", share.curve().to_string()),
            ("Rotation key", share.did_key()),
            ("Date", self.date.to_string()),
        ];
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{title}");
        let _ = writeln!(out, "{}", "=".repeat(TEXT_WIDTH));
        out.push('\n');
        for (label, value) in &fields {
            for (n, piece) in wrap(value, TEXT_WIDTH - 15).iter().enumerate() {
                let label = if n == 0 { *label } else { "" };
                let _ = writeln!(out, "{label:<14} {piece}");
            }
        }
        out.push('\n');
        let _ = writeln!(out, "The 24 words of share {}:", share.index());
        out.push('\n');
        let words = share.reveal_words();
        for (n, word) in words.reveal_words().enumerate() {
            let _ = write!(out, "{:>4}. {:<10}", n + 1, word);
            if n % 4 == 3 {
                // Trailing spaces are noise in a text file.
                let trimmed = out.trim_end().len();
                out.truncate(trimmed);
                out.push('\n');
            }
        }
        out.push('\n');
        for (n, (heading, body)) in instructions(share).iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "{heading}");
            for line in wrap(body, TEXT_WIDTH - 2) {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }

    /// The sheet as one self-contained HTML page that prints on one A4 or Letter page.
    pub fn reveal_html(&self) -> Zeroizing<String> {
        let share = self.share;
        let mut out = Zeroizing::new(String::with_capacity(
            16384 + 8 * (self.did.len() + self.handle.len()),
        ));
        let share_line = self.share_line();
        let handle = self.handle_shown();
        out.push_str(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"robots\" content=\"noindex, nofollow\">\n",
        );
        let _ = writeln!(
            out,
            "<title>Recovery sheet \u{2014} {} \u{2014} {}</title>",
            html(&share_line),
            html(&handle)
        );
        out.push_str(STYLE);
        out.push_str("</head>\n<body>\n<main class=\"sheet\">\n");
        let _ = writeln!(
            out,
            "<header>\n<h1>Recovery sheet</h1>\n<p class=\"share\">{}</p>\n</header>",
            html(&share_line)
        );
        out.push_str("<dl class=\"fields\">\n");
        let fields: [(&str, String, bool); 8] = [
            ("Account", handle, false),
            ("DID", printable(self.did.trim()), true),
            ("Set", share.set_id().to_string(), true),
            ("Share number", share.index().to_string(), true),
            ("Epoch", share.epoch().to_string(), true),
            ("Curve", share.curve().to_string(), true),
            ("Rotation key", share.did_key(), true),
            ("Date", self.date.to_string(), false),
        ];
        for (label, value, mono) in &fields {
            let class = if *mono { " class=\"mono\"" } else { "" };
            let _ = writeln!(
                out,
                "<dt>{}</dt><dd{class}>{}</dd>",
                html(label),
                html(value)
            );
        }
        out.push_str("</dl>\n");
        let _ = writeln!(
            out,
            "<h2>The {SHARE_WORD_COUNT} words of share {}</h2>\n<ol class=\"words\">",
            share.index()
        );
        let words = share.reveal_words();
        for (n, word) in words.reveal_words().enumerate() {
            let _ = writeln!(
                out,
                "<li><span class=\"n\">{}</span><span class=\"w\">{}</span></li>",
                n + 1,
                html(word)
            );
        }
        out.push_str("</ol>\n<section class=\"help\">\n");
        for (heading, body) in instructions(share) {
            let _ = writeln!(out, "<h2>{}</h2>\n<p>{}</p>", html(heading), html(&body));
        }
        out.push_str("</section>\n</main>\n</body>\n</html>\n");
        out
    }
}

// Sized for the smaller of A4 (210 x 297 mm) and Letter (216 x 279 mm) with 12 mm
// margins: at most 186 x 255 mm of content.
const STYLE: &str = "<style>
@page { size: auto; margin: 12mm; }
* { box-sizing: border-box; }
html { color: #000; background: #fff; font: 10pt/1.35 system-ui, -apple-system, \"Segoe UI\", Helvetica, Arial, sans-serif; }
body { margin: 0; }
.sheet { max-width: 186mm; margin: 0 auto; page-break-inside: avoid; break-inside: avoid; }
header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 0.6mm solid #000; margin-bottom: 3mm; }
h1 { font-size: 16pt; margin: 0 0 1mm 0; }
h2 { font-size: 10.5pt; margin: 3mm 0 1mm 0; }
.share { font-size: 12pt; font-weight: bold; margin: 0; }
.fields { display: grid; grid-template-columns: 30mm 1fr; gap: 0.8mm 3mm; margin: 0; }
.fields dt { font-weight: bold; }
.fields dd { margin: 0; overflow-wrap: anywhere; }
.mono { font-family: ui-monospace, \"SF Mono\", Menlo, Consolas, \"Liberation Mono\", monospace; font-size: 9pt; }
.words { list-style: none; padding: 0; margin: 2mm 0; display: grid; grid-template-columns: repeat(4, 1fr); gap: 1.6mm 3mm; font-family: ui-monospace, \"SF Mono\", Menlo, Consolas, \"Liberation Mono\", monospace; font-size: 12pt; }
.words li { border: 0.3mm solid #000; border-radius: 1mm; padding: 1.6mm 2mm; break-inside: avoid; }
.words .n { display: inline-block; min-width: 2.4em; color: #444; font-size: 9pt; }
.words .w { font-weight: bold; }
.help { font-size: 9pt; }
.help p { margin: 0 0 1mm 0; }
@media screen { body { padding: 10mm; background: #eee; } .sheet { background: #fff; padding: 12mm; } }
</style>
";

/// What the sheet is, how to keep it, how to use it.
fn instructions(share: &Share) -> [(&'static str, String); 3] {
    [
        (
            "What this is",
            format!(
                "This is share {} of {} of the rotation key that controls your identity \
                 (the DID above). The key was split into {} pieces; any {} of them rebuild it \
                 and one alone reveals nothing. With this key you can move your account to \
                 another server or undo changes made without you.",
                share.index(),
                SHARE_COUNT,
                SHARE_COUNT,
                share.threshold()
            ),
        ),
        (
            "Keep it offline",
            "Store this paper somewhere safe, away from your devices. Do not photograph, \
             scan, type or email it. Anyone with this sheet and one other share can take \
             over your identity. If it is lost or seen, make a new backup: that replaces \
             all three shares."
                .to_string(),
        ),
        (
            "How to recover",
            format!(
                "On a computer you trust, run `{RECOVER_COMMAND}`. When it asks for this \
                 share, type the 24 words and the set, share number, epoch and curve \
                 printed above. Give it one other share of the same set too (the copy on \
                 your device, the relay's escrow copy or another sheet). It checks the \
                 rebuilt key against the rotation key printed above before using it."
            ),
        ),
    ]
}

/// Escape for HTML text and attribute values.
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Replace characters that must not reach a terminal or a printed page: controls (escape
/// sequences) and bidirectional overrides (which reorder what is displayed).
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { '\u{fffd}' } else { c }
        })
        .collect()
}

/// Break text into lines of at most `width` characters, at spaces where possible and
/// inside long words (DIDs, keys) where not.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let sep = usize::from(used > 0);
            if used + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width.min(word.len()));
            lines.push(word.iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_short_and_loses_nothing() {
        let text = "one two three did:plc:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa four";
        let lines = wrap(text, 12);
        assert!(lines.iter().all(|l| l.chars().count() <= 12), "{lines:?}");
        let joined: String = lines.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn html_escapes_every_special_character() {
        assert_eq!(
            html("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn printable_replaces_controls_and_overrides() {
        assert_eq!(
            printable("a\u{1b}[31mb\u{202e}c\nd"),
            "a\u{fffd}[31mb\u{fffd}c\u{fffd}d"
        );
    }
}
