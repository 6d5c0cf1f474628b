//! com.atproto.server.describeServer: the server's DID, handle domains, invite policy, links.

use crate::context::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn handler(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    let mut links = serde_json::Map::new();
    if let Some(u) = &c.privacy_policy_url {
        links.insert("privacyPolicy".into(), json!(u));
    }
    if let Some(u) = &c.terms_of_service_url {
        links.insert("termsOfService".into(), json!(u));
    }
    let mut out = json!({
        "did": state.service_did,
        "availableUserDomains": c.handle_domains,
        "inviteCodeRequired": c.invites.required,
        "phoneVerificationRequired": false,
        "links": links,
    });
    if let Some(e) = &c.contact_email {
        out["contact"] = json!({ "email": e });
    }
    Json(out)
}
