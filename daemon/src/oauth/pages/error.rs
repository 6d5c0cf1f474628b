//! The page shown when the authorization cannot go on and there is no safe way back to
//! the app (no valid request to redirect with): what happened, what to do, and the
//! OAuth error code for the app's developer. Renders only.

use super::{escape, layout};

/// Render an error page.
pub fn render(server_host: &str, title: &str, message: &str, code: &str) -> String {
    let body = format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p>\
         <p class=\"muted\">Go back to the app and try signing in again.</p>\
         <p class=\"muted\">Error code: <code>{}</code></p></div>",
        escape(title),
        escape(message),
        escape(code)
    );
    layout(title, server_host, &body)
}
