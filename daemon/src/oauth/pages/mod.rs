//! The authorization pages as server-rendered HTML: sign-in, consent, errors, and the
//! `form_post` hand-back. Plain HTML and one inline stylesheet (allowed by its hash in
//! the Content-Security-Policy); no JavaScript, no external resources except the app's
//! own `https:` logo. Every value that comes from outside (client metadata, handles,
//! parameters) goes through [`escape`]; nothing else builds markup.
//!
//! These functions only render: which page to show, and what a form does, is
//! `authorize.rs`'s decision.

pub mod consent;
pub mod error;
pub mod form_post;
pub mod signin;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

/// Escape text for HTML element content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// How the app asking for access is shown.
#[derive(Debug, Clone)]
pub struct AppView {
    /// Its name (from its metadata, or a fallback).
    pub name: String,
    /// The host of its client_id: the one thing about it the server has verified.
    pub host: String,
    pub client_id: String,
    pub logo_uri: Option<String>,
    pub client_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    /// Listed in `oauth.trusted_clients`: no "unverified" caution.
    pub trusted: bool,
    /// A development client on the user's own computer.
    pub localhost: bool,
}

/// What every form on the pages carries back.
#[derive(Debug, Clone)]
pub struct FormCtx {
    /// This server's host name (with port), shown at the top of every page.
    pub server_host: String,
    pub request_uri: String,
    pub client_id: String,
    pub csrf: String,
}

const CSS: &str = r#"
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#16181d;--muted:#5b616e;--line:#dde0e6;--accent:#1662d6;--accent-text:#fff;--warn-bg:#fff7e0;--warn-line:#f0d58a;--err-bg:#fdecec;--err-line:#f2b8b5}
@media (prefers-color-scheme:dark){:root{--bg:#111317;--card:#1b1e24;--text:#eceef2;--muted:#a2a8b4;--line:#2e333c;--accent:#4c8dff;--accent-text:#fff;--warn-bg:#2d2716;--warn-line:#5c4d1f;--err-bg:#351b1b;--err-line:#6b2c2c}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;display:flex;align-items:flex-start;justify-content:center;padding:48px 16px}
main{width:100%;max-width:440px}
.server{display:flex;align-items:center;gap:8px;justify-content:center;color:var(--muted);font-size:14px;margin-bottom:16px}
.server b{color:var(--text);font-weight:600}
.dot{width:8px;height:8px;border-radius:50%;background:var(--accent);display:inline-block}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:28px;box-shadow:0 1px 2px rgba(0,0,0,.04),0 8px 24px rgba(0,0,0,.06)}
h1{font-size:22px;line-height:1.3;margin:0 0 6px}
p{margin:0 0 12px}
.muted{color:var(--muted);font-size:14px}
.app{display:flex;gap:14px;align-items:center;padding:14px;border:1px solid var(--line);border-radius:12px;margin:18px 0}
.logo{width:48px;height:48px;border-radius:12px;flex:none;object-fit:cover;background:var(--bg)}
.letter{width:48px;height:48px;border-radius:12px;flex:none;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:22px;background:var(--accent);color:var(--accent-text)}
.app-name{font-weight:600;font-size:17px;word-break:break-word}
.app-host{font-size:14px;color:var(--muted);word-break:break-all}
.note{font-size:13px;padding:10px 12px;border-radius:10px;background:var(--warn-bg);border:1px solid var(--warn-line);margin:0 0 16px}
.error{font-size:14px;padding:10px 12px;border-radius:10px;background:var(--err-bg);border:1px solid var(--err-line);margin:0 0 16px}
label{display:block;font-weight:600;font-size:14px;margin:14px 0 6px}
input[type=text],input[type=password]{width:100%;font:inherit;padding:10px 12px;border:1px solid var(--line);border-radius:10px;background:var(--card);color:var(--text)}
input[type=text]:focus,input[type=password]:focus{outline:2px solid var(--accent);outline-offset:1px;border-color:var(--accent)}
input[readonly]{background:var(--bg);color:var(--muted)}
.check{display:flex;gap:8px;align-items:center;font-weight:400;margin-top:14px}
.account{display:flex;justify-content:space-between;align-items:center;gap:12px;padding:12px 14px;background:var(--bg);border-radius:10px;margin:0 0 16px}
.account b{word-break:break-all}
ul.scopes{list-style:none;padding:0;margin:8px 0 16px}
ul.scopes li{padding:12px 0;border-top:1px solid var(--line)}
ul.scopes li:first-child{border-top:0}
ul.scopes b{display:block}
.actions{display:flex;flex-direction:row-reverse;gap:10px;margin-top:22px}
button{font:inherit;font-weight:600;border-radius:10px;padding:10px 18px;cursor:pointer;border:1px solid var(--line);background:var(--card);color:var(--text)}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-text);flex:1}
button.secondary{flex:1}
button.link{border:0;background:none;color:var(--accent);padding:0;font-weight:500;font-size:14px}
button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
footer{margin-top:16px;text-align:center;font-size:13px;color:var(--muted)}
footer a{color:var(--muted)}
code{font-size:13px;word-break:break-all}
.foot{margin:18px 0 0}
"#;

fn css_hash() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()))
}

/// A complete page: `title`, then `body` (already-escaped markup) inside the layout.
pub fn layout(title: &str, server_host: &str, body: &str) -> String {
    let mut out = String::with_capacity(CSS.len() + body.len() + 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"same-origin\">\
         <title>{title} · {host}</title><style>{CSS}</style></head><body><main>\
         <div class=\"server\"><span class=\"dot\"></span><span>Personal Data Server <b>{host}</b></span></div>\
         {body}</main></body></html>\n",
        title = escape(title),
        host = escape(server_host),
    );
    out
}

/// Send a page with the headers that keep it private and unframeable.
pub fn respond(status: StatusCode, html: String) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'",
        css_hash()
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The box that names the app: logo (or initial), name, verified host, caution.
pub fn app_box(app: &AppView) -> String {
    let mut out = String::new();
    let initial = app
        .name
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_else(|| "?".into());
    out.push_str("<div class=\"app\">");
    match &app.logo_uri {
        Some(logo) => {
            let _ = write!(
                out,
                "<img class=\"logo\" src=\"{}\" alt=\"\" width=\"48\" height=\"48\">",
                escape(logo)
            );
        }
        None => {
            let _ = write!(
                out,
                "<div class=\"letter\" aria-hidden=\"true\">{}</div>",
                escape(&initial)
            );
        }
    }
    // The full client_id is what identifies the app (the profile asks to show it).
    let shown_id = if app.localhost {
        &app.host
    } else {
        &app.client_id
    };
    let _ = write!(
        out,
        "<div><div class=\"app-name\">{}</div><div class=\"app-host\">{}</div></div></div>",
        escape(&app.name),
        escape(shown_id)
    );
    if app.localhost {
        out.push_str(
            "<p class=\"note\">This is a <b>development app</b> running on this computer. \
             Only continue if you are developing or testing it.</p>",
        );
    } else if !app.trusted {
        let _ = write!(
            out,
            "<p class=\"note\">The name and logo above come from the app itself and are not verified. \
             What is verified is its address: <b>{}</b>.</p>",
            escape(&app.host)
        );
    }
    out
}

/// The hidden fields every form posts back.
pub fn hidden_fields(f: &FormCtx) -> String {
    format!(
        "<input type=\"hidden\" name=\"request_uri\" value=\"{}\">\
         <input type=\"hidden\" name=\"client_id\" value=\"{}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&f.request_uri),
        escape(&f.client_id),
        escape(&f.csrf)
    )
}

/// Links to the app's site, terms and policy, when it gave them.
pub fn app_links(app: &AppView) -> String {
    let mut links: Vec<String> = Vec::new();
    for (label, uri) in [
        ("Website", &app.client_uri),
        ("Terms", &app.tos_uri),
        ("Privacy policy", &app.policy_uri),
    ] {
        if let Some(u) = uri {
            links.push(format!(
                "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
                escape(u),
                label
            ));
        }
    }
    if links.is_empty() {
        String::new()
    } else {
        format!("<footer>{}</footer>", links.join(" · "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y' `z`"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;"
        );
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a\u{0}b\u{1b}c"), "abc");
    }

    #[test]
    fn hostile_metadata_cannot_inject_markup() {
        let app = AppView {
            name: "<img src=x onerror=alert(1)>".into(),
            host: "evil\"><script>".into(),
            client_id: "x".into(),
            logo_uri: Some("https://e.example/\"onload=\"alert(1)".into()),
            client_uri: Some("https://e.example/\"><b>".into()),
            tos_uri: None,
            policy_uri: None,
            trusted: false,
            localhost: false,
        };
        let html = format!("{}{}", app_box(&app), app_links(&app));
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("\"onload=\""));
        assert!(!html.contains("\"><b>"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        let page = layout("<t>", "h\"ost", &html);
        assert!(page.contains("&lt;t&gt;"));
        assert!(page.contains("h&quot;ost"));
    }

    #[test]
    fn pages_carry_strict_headers() {
        let res = respond(StatusCode::OK, layout("t", "h", ""));
        let csp = res
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(csp.contains("default-src 'none'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("script-src"));
        assert_eq!(
            res.headers()
                .get(header::X_FRAME_OPTIONS)
                .map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
    }
}
