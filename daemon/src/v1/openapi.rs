//! The device API's reference, generated from the route table (`v1::routes`): the
//! OpenAPI 3.1 document served at `GET /v1/openapi.json` (and kept in the repository as
//! docs/openapi.json) and the human reference docs/api.md.
//!
//! Both come from the same descriptors the router is built from, so they list exactly the
//! served endpoints. Errors every endpoint of a kind can answer (authentication, malformed
//! input) are added here rather than repeated in each descriptor; anything else an
//! endpoint may answer is covered by the `default` response, which has the same
//! `{"error", "message"}` shape. The test `docs_are_current` fails when the committed
//! documents differ from what the code generates (`pdsd generate api-docs --out docs`, or
//! `PDSD_UPDATE_DOCS=1` on the test, rewrites them).

use super::route::{self, Auth, ErrorDoc, In, Milestone, Route};
use crate::context::AppState;
use crate::services::device::PLATFORMS;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const INTRO: &str = "The device API that the iPhone and macOS apps, and pdsctl acting as a device, use to talk to \
the relay (pdsd). It sits beside the standard com.atproto XRPC API, which accounts keep using for their repos.\n\n\
Authentication. An enrolled device signs a short-lived device token with its P-256 key for each request: a compact \
JWS with header {\"alg\": \"ES256\", \"typ\": \"device+jwt\", \"kid\": <device id>} and claims {iss: <device id>, \
aud: <the relay's service DID or public URL>, htm: <HTTP method>, htu: <request path>, nonce: <from POST /v1/auth/nonce>, \
iat, exp (at most 5 minutes later), jti}, signed ES256 with a low-S r||s signature, sent as `Authorization: Bearer \
<token>`. Each nonce works once. A key that is not enrolled yet proves possession with the same token, iss = its did:key \
and no kid. Account sessions (accessJwt from com.atproto.server.createSession or from account creation) are accepted \
only where an endpoint says so; device tokens and sessions never stand in for each other, and app-password sessions \
cannot use this API.\n\n\
Keys. Only P-256 and secp256k1 keys exist in this system; device keys are P-256. An Ed25519 key (or any other type) is \
refused with 400 UnsupportedKeyType.\n\n\
Errors. Every error is JSON {\"error\": <name>, \"message\": <text>} with the HTTP status listed.\n\n\
pdsctl. `pdsctl device enroll|list|promote|remove` and `pdsctl desktop sync` drive these endpoints from a Linux or \
macOS machine acting as a device (and as the repo-host desktop); see their man pages.";

/// Errors every endpoint of an authentication kind may answer.
fn auth_errors(auth: Auth) -> Vec<ErrorDoc> {
    let device = vec![
        route::err(
            401,
            "AuthRequired",
            "the Authorization header is not `Bearer <token>`",
        ),
        route::err(
            401,
            "DeviceAuthRequired",
            "no device token, or an account session was sent",
        ),
        route::err(
            401,
            "InvalidDeviceToken",
            "the token is malformed, badly signed, or not for this request",
        ),
        route::err(401, "ExpiredDeviceToken", "the token has expired"),
        route::err(401, "BadNonce", "the nonce is unknown, used or expired"),
        route::err(
            401,
            "DeviceNotEnrolled",
            "the device is unknown or was removed",
        ),
        route::err(401, "AccountTakedown", "the account was taken down"),
        route::err(403, "DevicePending", "the device waits for approval"),
    ];
    let session = vec![
        route::err(
            401,
            "AuthRequired",
            "the Authorization header is not `Bearer <token>`",
        ),
        route::err(401, "InvalidToken", "the session token is invalid"),
        route::err(401, "ExpiredToken", "the session token has expired"),
        route::err(
            401,
            "SessionRequired",
            "a device token or an app-password session was sent",
        ),
    ];
    match auth {
        Auth::None => vec![],
        Auth::Password => vec![
            route::err(
                401,
                "PasswordRequired",
                "no `Authorization: Basic` header with the account's identifier and password",
            ),
            route::err(
                401,
                "InvalidPassword",
                "the identifier or the password is wrong",
            ),
        ],
        Auth::Device => device,
        Auth::OptionalSession => session,
        Auth::DeviceOrSession => {
            let mut all = vec![route::err(
                401,
                "AuthRequired",
                "no credentials were sent, or not as `Bearer <token>`",
            )];
            all.extend(device.into_iter().filter(|e| e.name != "AuthRequired"));
            all.extend(
                session
                    .into_iter()
                    .filter(|e| e.name != "SessionRequired" && e.name != "AuthRequired"),
            );
            all.push(route::err(
                401,
                "SessionRequired",
                "an app-password session was sent",
            ));
            all
        }
    }
}

fn security(auth: Auth) -> Value {
    match auth {
        Auth::None => json!([]),
        Auth::Device => json!([{ "deviceToken": [] }]),
        Auth::DeviceOrSession => json!([{ "deviceToken": [] }, { "accountSession": [] }]),
        Auth::OptionalSession => json!([{}, { "accountSession": [] }]),
        Auth::Password => json!([{ "accountPassword": [] }]),
    }
}

fn auth_text(auth: Auth) -> &'static str {
    match auth {
        Auth::None => "none",
        Auth::Device => "device token",
        Auth::DeviceOrSession => "device token or account session",
        Auth::OptionalSession => "none, or an account session",
        Auth::Password => "the account password (HTTP Basic)",
    }
}

/// Every error of a route: its own, authentication, malformed input.
fn all_errors(r: &Route) -> Vec<ErrorDoc> {
    let mut errs = r.errors.clone();
    if r.request.is_some() || !r.params.is_empty() {
        errs.push(route::err(
            400,
            "InvalidRequest",
            "the request is malformed (body, parameters)",
        ));
    }
    if r.request
        .as_ref()
        .is_some_and(|b| b.content_type == "application/json")
    {
        errs.push(route::err(413, "PayloadTooLarge", "the body is too large"));
    }
    errs.extend(auth_errors(r.auth));
    let mut seen = std::collections::HashSet::new();
    errs.retain(|e| seen.insert((e.status, e.name)));
    errs.sort_by_key(|e| e.status);
    errs
}

fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for part in path.trim_start_matches("/v1/").split(['/', '.']) {
        let part = part.trim_matches(|c| c == '{' || c == '}');
        let mut up = true;
        for c in part.chars() {
            if c == '-' || c == '_' {
                up = true;
            } else if up {
                id.extend(c.to_uppercase());
                up = false;
            } else {
                id.push(c);
            }
        }
    }
    id
}

fn components() -> Value {
    json!({
        "securitySchemes": {
            "deviceToken": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "device+jwt (ES256, one nonce per request)",
                "description": "A device token signed by an enrolled device's P-256 key (see the description above)."
            },
            "accountSession": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "at+jwt",
                "description": "An account session's accessJwt (full, not an app password)."
            },
            "accountPassword": {
                "type": "http",
                "scheme": "basic",
                "description": "The account's handle or DID and its password (never an app password), for releasing the escrowed key share."
            }
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": { "type": "string" },
                    "message": { "type": "string" }
                }
            },
            "Did": { "type": "string", "pattern": "^did:[a-z]+:[a-zA-Z0-9._:%-]+$", "maxLength": 2048 },
            "DidKey": {
                "type": "string",
                "pattern": "^did:key:z[1-9A-HJ-NP-Za-km-z]+$",
                "description": "a P-256 (did:key:zDn...) or secp256k1 (did:key:zQ3s...) public key; Ed25519 is refused"
            },
            "Cid": { "type": "string", "description": "a CID string (CIDv1, base32)" },
            "Tid": { "type": "string", "pattern": "^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$" },
            "Curve": { "enum": ["secp256k1", "p256"] },
            "Platform": { "enum": PLATFORMS },
            "ModeName": { "enum": ["mobile-only", "desktop-enrolled"] },
            "Head": {
                "type": "object",
                "required": ["commit", "rev"],
                "properties": { "commit": { "$ref": "#/components/schemas/Cid" }, "rev": { "$ref": "#/components/schemas/Tid" } }
            },
            "Device": {
                "type": "object",
                "required": ["id", "name", "platform", "kind", "publicKey", "status", "role", "online", "createdAt"],
                "properties": {
                    "id": { "type": "string" },
                    "name": { "type": "string" },
                    "platform": { "$ref": "#/components/schemas/Platform" },
                    "kind": { "enum": ["mobile", "desktop"] },
                    "publicKey": { "$ref": "#/components/schemas/DidKey" },
                    "status": { "enum": ["pending", "active", "removed"] },
                    "role": { "enum": ["device", "repo-host"] },
                    "online": { "type": "boolean" },
                    "createdAt": { "type": "string", "format": "date-time" },
                    "approvedAt": { "type": ["string", "null"], "format": "date-time" },
                    "lastSeenAt": { "type": ["string", "null"], "format": "date-time" }
                }
            },
            "RelayKey": {
                "type": "object",
                "required": ["keyId", "publicKey", "curve", "status", "createdAt"],
                "properties": {
                    "keyId": { "type": "string" },
                    "publicKey": { "$ref": "#/components/schemas/DidKey" },
                    "curve": { "$ref": "#/components/schemas/Curve" },
                    "status": { "enum": ["pending", "current", "retired", "revoked"] },
                    "createdAt": { "type": "string" },
                    "retiredAt": { "type": ["string", "null"] },
                    "revokedAt": { "type": ["string", "null"] }
                }
            },
            "Mode": {
                "type": "object",
                "required": ["did", "mode", "writes", "tier", "limits"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "mode": { "$ref": "#/components/schemas/ModeName" },
                    "repoHost": { "oneOf": [{ "$ref": "#/components/schemas/Device" }, { "type": "null" }] },
                    "repoHostOnline": { "type": ["boolean", "null"] },
                    "writes": { "enum": ["accepted", "unavailable"] },
                    "tier": { "type": "string" },
                    "limits": {
                        "type": "object",
                        "required": ["blobMaxBytes", "blobQuotaBytes", "maxDevices", "firehoseProxy"],
                        "properties": {
                            "blobMaxBytes": { "type": "integer" },
                            "blobQuotaBytes": { "type": "integer" },
                            "maxDevices": { "type": "integer" },
                            "firehoseProxy": { "type": "boolean" }
                        }
                    }
                }
            },
            "CreatedAccount": {
                "type": "object",
                "required": ["did", "handle", "accessJwt", "refreshJwt", "signingKey", "rotationKeys", "plcOperation"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "handle": { "type": "string" },
                    "accessJwt": { "type": "string" },
                    "refreshJwt": { "type": "string" },
                    "signingKey": { "$ref": "#/components/schemas/DidKey" },
                    "rotationKeys": { "type": "array", "items": { "$ref": "#/components/schemas/DidKey" } },
                    "plcOperation": { "type": "object", "description": "the signed genesis operation (JSON form)" }
                }
            },
            "CreatedMobileAccount": {
                "allOf": [
                    { "$ref": "#/components/schemas/CreatedAccount" },
                    { "type": "object", "required": ["deviceId"], "properties": { "deviceId": { "type": "string" } } }
                ]
            },
            "CreatedDid": {
                "type": "object",
                "required": ["did", "handle", "signingKey", "rotationKeys", "operation", "expiresAt"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "handle": { "type": "string" },
                    "signingKey": { "$ref": "#/components/schemas/DidKey" },
                    "rotationKeys": { "type": "array", "items": { "$ref": "#/components/schemas/DidKey" } },
                    "operation": { "type": "object" },
                    "expiresAt": { "type": "string", "format": "date-time" }
                }
            }
        }
    })
}

fn error_response(errs: &[&ErrorDoc]) -> Value {
    let names: Vec<&str> = errs.iter().map(|e| e.name).collect();
    let description = errs
        .iter()
        .map(|e| format!("{}: {}", e.name, e.when))
        .collect::<Vec<_>>()
        .join("; ");
    json!({
        "description": description,
        "content": { "application/json": { "schema": {
            "allOf": [
                { "$ref": "#/components/schemas/Error" },
                { "type": "object", "properties": { "error": { "enum": names } } }
            ]
        } } }
    })
}

fn operation(r: &Route) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id(&r.method, r.path)));
    op.insert("summary".into(), json!(r.summary));
    op.insert("description".into(), json!(r.description));
    op.insert("tags".into(), json!([r.milestone.tag()]));
    op.insert("x-milestone".into(), json!(r.milestone.tag()));
    op.insert("security".into(), security(r.auth));
    if !r.params.is_empty() {
        let params: Vec<Value> = r
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": match p.location { In::Path => "path", In::Query => "query" },
                    "required": p.required,
                    "description": p.description,
                    "schema": p.schema,
                })
            })
            .collect();
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(b) = &r.request {
        op.insert(
            "requestBody".into(),
            json!({
                "required": b.required,
                "content": { b.content_type: { "schema": b.schema } }
            }),
        );
    }
    let mut responses = Map::new();
    for res in &r.responses {
        let mut v = json!({ "description": res.description });
        if let Some(b) = &res.body {
            v["content"] = json!({ b.content_type: { "schema": b.schema } });
        }
        responses.insert(res.status.to_string(), v);
    }
    let errs = all_errors(r);
    let mut by_status: BTreeMap<u16, Vec<&ErrorDoc>> = BTreeMap::new();
    for e in &errs {
        by_status.entry(e.status).or_default().push(e);
    }
    for (status, list) in by_status {
        responses.insert(status.to_string(), error_response(&list));
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "Any other error (e.g. 500 InternalServerError, 502 UpstreamFailure, 503 when the relay cannot do it now).",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        }),
    );
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// The OpenAPI 3.1 document of `routes`.
pub fn document(routes: &[Route]) -> Value {
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for r in routes {
        paths
            .entry(r.path)
            .or_default()
            .insert(r.method.as_str().to_ascii_lowercase(), operation(r));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "pdsd device API (/v1)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INTRO,
        },
        "tags": [
            { "name": "v0.1", "description": "identity wallet: relay as full PDS, mobile account creation, DID ceremony, relay signing" },
            { "name": "v0.2", "description": "device management: enrol, pair, promote, status, de-enrol" },
            { "name": "v1.0", "description": "recovery and desktop: desktop-enrolled mode with relay signing, firehose proxy, tiers" }
        ],
        "paths": paths,
        "components": components(),
    })
}

fn schema_text(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// docs/api.md: the same reference for people.
pub fn markdown(routes: &[Route]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# pdsd device API (`/v1`)\n");
    let _ = writeln!(
        out,
        "<!-- Generated from daemon/src/v1 (the route table); do not edit by hand. \
         Regenerate with `pdsd generate api-docs --out docs`. -->\n"
    );
    let _ = writeln!(
        out,
        "The machine-readable twin of this page is the OpenAPI 3.1 document served at \
         `GET /v1/openapi.json` (also [openapi.json](openapi.json)).\n"
    );
    for para in INTRO.split("\n\n") {
        let _ = writeln!(out, "{para}\n");
    }
    let _ = writeln!(out, "## Endpoints\n");
    let _ = writeln!(out, "| milestone | method | path | auth | summary |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let mut sorted: Vec<&Route> = routes.iter().collect();
    sorted.sort_by_key(|r| r.milestone);
    for r in &sorted {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} |",
            r.milestone.tag(),
            r.method,
            r.path,
            auth_text(r.auth),
            r.summary
        );
    }
    let _ = writeln!(
        out,
        "\nReserved for flows built next (not served yet): `/v1/transfer/*` (v0.2), `/v1/recovery/*` \
         (v1.0), `/v1/keys/*` (v0.1).\n"
    );
    for m in [Milestone::V0_1, Milestone::V0_2, Milestone::V1_0] {
        let _ = writeln!(out, "## {}\n", m.tag());
        for r in routes.iter().filter(|r| r.milestone == m) {
            let _ = writeln!(out, "### `{} {}`\n", r.method, r.path);
            let _ = writeln!(out, "{}\n", r.summary);
            let _ = writeln!(
                out,
                "- Milestone: {}\n- Auth: {}\n",
                r.milestone.tag(),
                auth_text(r.auth)
            );
            let _ = writeln!(out, "{}\n", r.description);
            if !r.params.is_empty() {
                let _ = writeln!(out, "Parameters:\n");
                let _ = writeln!(out, "| name | in | required | description |");
                let _ = writeln!(out, "|---|---|---|---|");
                for p in &r.params {
                    let _ = writeln!(
                        out,
                        "| `{}` | {} | {} | {} |",
                        p.name,
                        match p.location {
                            In::Path => "path",
                            In::Query => "query",
                        },
                        if p.required { "yes" } else { "no" },
                        p.description
                    );
                }
                out.push('\n');
            }
            if let Some(b) = &r.request {
                let _ = writeln!(
                    out,
                    "Request ({}{}):\n\n```json\n{}\n```\n",
                    b.content_type,
                    if b.required { "" } else { ", optional" },
                    schema_text(&b.schema)
                );
            }
            for res in &r.responses {
                match &res.body {
                    Some(b) => {
                        let _ = writeln!(
                            out,
                            "Response {} ({}): {}\n\n```json\n{}\n```\n",
                            res.status,
                            b.content_type,
                            res.description,
                            schema_text(&b.schema)
                        );
                    }
                    None => {
                        let _ = writeln!(out, "Response {}: {}\n", res.status, res.description);
                    }
                }
            }
            let _ = writeln!(out, "Errors:\n");
            let _ = writeln!(out, "| status | error | when |");
            let _ = writeln!(out, "|---|---|---|");
            for e in all_errors(r) {
                let _ = writeln!(out, "| {} | `{}` | {} |", e.status, e.name, e.when);
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Schemas\n");
    if let Some(schemas) = components()["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = writeln!(out, "### {name}\n\n```json\n{}\n```\n", schema_text(schema));
        }
    }
    out
}

/// The two documents as committed under docs/: (openapi.json, api.md).
pub fn rendered() -> (String, String) {
    let routes = super::routes();
    let json = serde_json::to_string_pretty(&document(&routes)).unwrap_or_default();
    (format!("{json}\n"), markdown(&routes))
}

/// `pdsd generate api-docs --out docs`: write openapi.json and api.md into `dir`.
pub fn write_docs(dir: &std::path::Path) -> std::io::Result<()> {
    let (json, md) = rendered();
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("openapi.json"), json)?;
    std::fs::write(dir.join("api.md"), md)
}

async fn handler(State(_state): State<AppState>) -> Json<Value> {
    Json(document(&super::routes()))
}

/// `GET /v1/openapi.json`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/openapi.json",
        milestone: Milestone::V0_1,
        auth: Auth::None,
        summary: "This API reference as an OpenAPI 3.1 document",
        description: "Generated from the same table the router is built from, so it lists exactly the served endpoints.",
        params: vec![],
        request: None,
        responses: route::ok_json("The OpenAPI document.", json!({ "type": "object" })),
        errors: vec![],
        handler: axum::routing::get(handler),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
    }

    /// The committed docs/openapi.json and docs/api.md are what the code generates.
    #[test]
    fn docs_are_current() {
        let (json, md) = rendered();
        let dir = docs_dir();
        if std::env::var_os("PDSD_UPDATE_DOCS").is_some() {
            write_docs(&dir).expect("write docs");
        }
        let on_disk = std::fs::read_to_string(dir.join("openapi.json")).unwrap_or_default();
        assert!(
            on_disk == json,
            "docs/openapi.json is stale: run `pdsd generate api-docs --out docs` (or PDSD_UPDATE_DOCS=1 cargo test -p pdsd docs_are_current)"
        );
        let on_disk = std::fs::read_to_string(dir.join("api.md")).unwrap_or_default();
        assert!(
            on_disk == md,
            "docs/api.md is stale: run `pdsd generate api-docs --out docs` (or PDSD_UPDATE_DOCS=1 cargo test -p pdsd docs_are_current)"
        );
    }

    /// Every operation has a milestone, a summary, a success response and errors, and
    /// every `$ref` names a component that exists.
    #[test]
    fn every_operation_is_documented() {
        let routes = super::super::routes();
        let doc = document(&routes);
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(schemas.contains_key(name), "dangling $ref {r}");
        }
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(seen.insert((r.method.clone(), r.path)), "{r:?} twice");
            assert!(r.path.starts_with("/v1/"), "{r:?}");
            let op = &doc["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
            assert!(op["x-milestone"].is_string(), "{r:?}");
            assert!(!r.summary.is_empty() && !r.description.is_empty(), "{r:?}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|k| k.starts_with('2') || k == "101"),
                "{r:?} has no success response"
            );
            assert!(responses.contains_key("default"), "{r:?}");
            for p in &r.params {
                if p.location == In::Path {
                    assert!(r.path.contains(&format!("{{{}}}", p.name)), "{r:?}");
                }
            }
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "$ref"
                        && let Some(s) = v.as_str()
                    {
                        out.push(s.to_string());
                    }
                    collect_refs(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn operation_ids_are_camel_case() {
        assert_eq!(
            operation_id(&Method::POST, "/v1/devices/{id}/pair"),
            "postDevicesIdPair"
        );
        assert_eq!(
            operation_id(&Method::GET, "/v1/relay/repo/snapshot"),
            "getRelayRepoSnapshot"
        );
    }
}
