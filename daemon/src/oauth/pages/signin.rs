//! The sign-in page: the app asking, then handle-or-email and password, "stay signed
//! in on this browser", and Cancel / Sign in. Renders only.

use super::{AppView, FormCtx, app_box, app_links, escape, hidden_fields, layout};
use std::fmt::Write;

/// What the sign-in page shows.
#[derive(Debug, Clone)]
pub struct SignIn<'a> {
    pub app: &'a AppView,
    pub form: &'a FormCtx,
    /// Pre-filled identifier (the app's `login_hint`, or what was typed).
    pub identifier: Option<&'a str>,
    /// The app asked for this account: the field is fixed.
    pub hinted: bool,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
}

/// Render the sign-in page.
pub fn render(p: &SignIn<'_>) -> String {
    let mut body = String::new();
    body.push_str("<div class=\"card\">");
    let _ = write!(
        body,
        "<h1>Sign in</h1><p class=\"muted\">with your account on <b>{}</b> to continue to this app:</p>",
        escape(&p.form.server_host)
    );
    body.push_str(&app_box(p.app));
    if let Some(e) = p.error {
        let _ = write!(body, "<p class=\"error\" role=\"alert\">{}</p>", escape(e));
    }
    body.push_str("<form method=\"post\" action=\"/oauth/authorize\">");
    body.push_str(&hidden_fields(p.form));
    let value = p.identifier.map(escape).unwrap_or_default();
    let readonly = if p.hinted { " readonly" } else { "" };
    let autofocus_id = if p.hinted || p.identifier.is_some() {
        ""
    } else {
        " autofocus"
    };
    let autofocus_pw = if autofocus_id.is_empty() {
        " autofocus"
    } else {
        ""
    };
    let _ = write!(
        body,
        "<label for=\"identifier\">Handle or email</label>\
         <input type=\"text\" id=\"identifier\" name=\"identifier\" value=\"{value}\" \
         autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required{readonly}{autofocus_id}>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required{autofocus_pw}>\
         <label class=\"check\"><input type=\"checkbox\" name=\"remember\" value=\"1\" checked> Stay signed in on this browser</label>"
    );
    body.push_str(
        "<div class=\"actions\">\
         <button class=\"primary\" type=\"submit\" name=\"action\" value=\"signin\">Sign in</button>\
         <button class=\"secondary\" type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Cancel</button>\
         </div></form>",
    );
    let _ = write!(
        body,
        "<p class=\"muted foot\">Your password stays with {}; the app never sees it.</p>",
        escape(&p.form.server_host)
    );
    body.push_str("</div>");
    body.push_str(&app_links(p.app));
    layout("Sign in", &p.form.server_host, &body)
}
