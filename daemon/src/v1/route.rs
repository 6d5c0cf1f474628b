//! The route descriptor: one value per endpoint of the device API, holding both its
//! handler and its documentation (milestone, who may call it, parameters, request,
//! responses, errors).
//!
//! The router (`v1::router`) and the OpenAPI document (`v1::openapi`) are both built
//! from the same list of descriptors, so an endpoint cannot be served undocumented or
//! documented unserved. Each endpoint file exports `pub fn route() -> Route` next to its
//! handler. Schemas are JSON Schema (OpenAPI 3.1 dialect) written as `serde_json` values;
//! `$ref`s point into the shared components of `v1::openapi`.

use crate::context::AppState;
use axum::http::Method;
use axum::routing::MethodRouter;
use serde_json::Value;

/// The release an endpoint belongs to (DESIGN.md's milestone map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Milestone {
    /// Identity wallet: relay as full PDS, mobile accounts, DID ceremony, relay signing.
    V0_1,
    /// Device management: enrol, pair, promote, status, de-enrol, transfer codes.
    V0_2,
    /// Recovery and desktop: desktop-enrolled mode, firehose proxy, tiers.
    V1_0,
}

impl Milestone {
    /// The tag used in the documents.
    pub fn tag(self) -> &'static str {
        match self {
            Milestone::V0_1 => "v0.1",
            Milestone::V0_2 => "v0.2",
            Milestone::V1_0 => "v1.0",
        }
    }
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    None,
    /// An enrolled device, with a device token (ES256 `device+jwt`, see `v1::auth`).
    Device,
    /// Either of the two.
    DeviceOrSession,
    /// An account session when one is sent, otherwise anyone (the result differs).
    OptionalSession,
    /// The account's password itself (`Authorization: Basic`, identifier and password),
    /// for what must not be reachable with a device or a session alone.
    Password,
}

/// Where a parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// A path or query parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub required: bool,
    pub description: &'static str,
    pub schema: Value,
}

/// A request or response body.
#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: &'static str,
    pub schema: Value,
    /// Whether a request must have this body (responses ignore it).
    pub required: bool,
}

/// A success response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub description: &'static str,
    pub body: Option<Body>,
}

/// An error an endpoint answers, as `{"error": name, "message": ...}`.
#[derive(Debug, Clone)]
pub struct ErrorDoc {
    pub status: u16,
    pub name: &'static str,
    pub when: &'static str,
}

/// One endpoint.
pub struct Route {
    pub method: Method,
    /// The path in OpenAPI/axum syntax, e.g. `/v1/devices/{id}`.
    pub path: &'static str,
    pub milestone: Milestone,
    pub auth: Auth,
    pub summary: &'static str,
    pub description: &'static str,
    pub params: Vec<Param>,
    pub request: Option<Body>,
    pub responses: Vec<Response>,
    pub errors: Vec<ErrorDoc>,
    pub handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Route({} {})", self.method, self.path)
    }
}

/// A path parameter.
pub fn path_param(name: &'static str, description: &'static str, schema: Value) -> Param {
    Param {
        name,
        location: In::Path,
        required: true,
        description,
        schema,
    }
}

/// An optional query parameter.
pub fn query_param(name: &'static str, description: &'static str, schema: Value) -> Param {
    Param {
        name,
        location: In::Query,
        required: false,
        description,
        schema,
    }
}

/// A JSON body with this schema.
pub fn json(schema: Value) -> Option<Body> {
    Some(Body {
        content_type: "application/json",
        schema,
        required: true,
    })
}

/// A JSON request body that may be left out.
pub fn json_optional(schema: Value) -> Option<Body> {
    Some(Body {
        content_type: "application/json",
        schema,
        required: false,
    })
}

/// A 200 JSON response.
pub fn ok_json(description: &'static str, schema: Value) -> Vec<Response> {
    vec![Response {
        status: 200,
        description,
        body: json(schema),
    }]
}

/// An error entry.
pub fn err(status: u16, name: &'static str, when: &'static str) -> ErrorDoc {
    ErrorDoc { status, name, when }
}

/// `{"$ref": "#/components/schemas/<name>"}`.
pub fn schema_ref(name: &str) -> Value {
    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
}
