//! The `response_mode=form_post` hand-back: a form that posts the authorization
//! response to the app's redirect URI. Without JavaScript the person presses Continue.
//! Renders only.

use super::{escape, layout};
use std::fmt::Write;

/// Render the hand-back page posting `fields` to `action`.
pub fn render(server_host: &str, action: &str, fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<div class=\"card\"><h1>Return to the app</h1><form method=\"post\" action=\"{}\">",
        escape(action)
    );
    for (k, v) in fields {
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(k),
            escape(v)
        );
    }
    body.push_str(
        "<div class=\"actions\"><button class=\"primary\" type=\"submit\" autofocus>Continue</button></div></form></div>",
    );
    layout("Return to the app", server_host, &body)
}
