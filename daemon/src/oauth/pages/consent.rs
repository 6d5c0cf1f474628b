//! The consent page: which app, which account, what it may do (each scope in words),
//! where the browser goes next, and Cancel / Allow. Renders only.

use super::{AppView, FormCtx, app_box, app_links, escape, hidden_fields, layout};
use crate::oauth::scope;
use std::fmt::Write;

/// What the consent page shows.
#[derive(Debug, Clone)]
pub struct Consent<'a> {
    pub app: &'a AppView,
    pub form: &'a FormCtx,
    /// `@handle` (or the DID when there is no handle).
    pub account: &'a str,
    pub scopes: &'a [String],
    /// Host the browser returns to after the answer.
    pub redirect_host: &'a str,
}

/// Render the consent page.
pub fn render(p: &Consent<'_>) -> String {
    let mut body = String::new();
    body.push_str("<div class=\"card\">");
    let _ = write!(
        body,
        "<h1>Allow access to your account?</h1>{}",
        app_box(p.app)
    );
    body.push_str("<form method=\"post\" action=\"/oauth/authorize\">");
    body.push_str(&hidden_fields(p.form));
    let _ = write!(
        body,
        "<div class=\"account\"><span>Signed in as <b>{}</b></span>\
         <button class=\"link\" type=\"submit\" name=\"action\" value=\"switch\">Not you?</button></div>",
        escape(p.account)
    );
    let _ = write!(
        body,
        "<p><b>{}</b> will be able to:</p><ul class=\"scopes\">",
        escape(&p.app.name)
    );
    for s in p.scopes {
        let (title, detail) = scope::describe(s);
        let _ = write!(
            body,
            "<li><b>{}</b><span class=\"muted\">{}</span></li>",
            escape(title),
            escape(detail)
        );
    }
    body.push_str("</ul>");
    let _ = write!(
        body,
        "<p class=\"muted\">You can revoke this access at any time. After you answer, \
         this browser goes back to <b>{}</b>.</p>",
        escape(p.redirect_host)
    );
    body.push_str(
        "<div class=\"actions\">\
         <button class=\"primary\" type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\
         <button class=\"secondary\" type=\"submit\" name=\"action\" value=\"deny\">Cancel</button>\
         </div></form></div>",
    );
    body.push_str(&app_links(p.app));
    layout("Allow access", &p.form.server_host, &body)
}
