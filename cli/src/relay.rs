//! pdsctl as a device of a relay: a small HTTP(S) client for the relay's `/v1` device API
//! and the few XRPC calls a device needs (describeServer for the relay's service DID,
//! resolveHandle, createSession to enrol with the account password), with device tokens
//! signed per request and every error answer turned into [`CliError::Relay`] with the
//! relay's error name.
//!
//! It never sends a rotation key or a whole key anywhere; shares travel only to and from
//! the escrow endpoints, over the relay's URL as given (HTTPS in production).

use crate::ctx::Ctx;
use crate::device::{self, Device};
use crate::error::CliError;
use pds::admin::Password;
use pds::crypto::Keypair;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// An account session (`accessJwt`).
    Bearer(&'a str),
    /// This machine's enrolled device (a device token per request).
    Device(&'a Device),
    /// The account password (HTTP Basic), for the escrowed share only.
    Basic(&'a str, &'a Password),
}

/// A relay.
#[derive(Debug, Clone)]
pub struct Relay {
    pub url: String,
    http: reqwest::Client,
    /// The relay's service DID, once asked.
    service: std::sync::OnceLock<String>,
}

impl Relay {
    pub fn new(url: &str) -> Result<Relay, CliError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("pdsctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Failed(format!("cannot make an HTTP client: {e}")))?;
        Ok(Relay {
            url: url.trim_end_matches('/').to_string(),
            http,
            service: std::sync::OnceLock::new(),
        })
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        CliError::Unreachable {
            url: self.url.clone(),
            message: e.to_string(),
        }
    }

    async fn answer(&self, res: reqwest::Response) -> Result<Value, CliError> {
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| self.unreachable(e))?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        Err(CliError::Relay {
            status: status.as_u16(),
            name: body["error"].as_str().unwrap_or("RelayError").to_string(),
            message: body["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "the relay answered {status}: {}",
                        String::from_utf8_lossy(&bytes)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    )
                }),
        })
    }

    /// A call without credentials (never a device token, so never recursive).
    async fn plain(&self, method: Method, path: &str) -> Result<Value, CliError> {
        let res = self
            .http
            .request(method, format!("{}{path}", self.url))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(res).await
    }

    /// The relay's service DID (the audience of device tokens).
    pub async fn service_did(&self) -> Result<String, CliError> {
        if let Some(d) = self.service.get() {
            return Ok(d.clone());
        }
        let v = self
            .plain(Method::GET, "/xrpc/com.atproto.server.describeServer")
            .await?;
        let did = v["did"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CliError::Failed("the relay did not say its service DID".into()))?;
        Ok(self.service.get_or_init(|| did).clone())
    }

    /// The DID of `account` (a DID is returned as is; a handle is resolved by the relay).
    pub async fn resolve(&self, account: &str) -> Result<String, CliError> {
        if account.starts_with("did:") {
            return Ok(account.to_string());
        }
        let res = self
            .http
            .get(format!(
                "{}/xrpc/com.atproto.identity.resolveHandle",
                self.url
            ))
            .query(&[("handle", account)])
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let v = self.answer(res).await?;
        v["did"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CliError::Failed(format!("the relay did not resolve {account}")))
    }

    /// Sign in with the account password: the session's `accessJwt`.
    pub async fn create_session(
        &self,
        identifier: &str,
        password: &Password,
    ) -> Result<String, CliError> {
        let v = self
            .json(
                Method::POST,
                "/xrpc/com.atproto.server.createSession",
                Some(&json!({ "identifier": identifier, "password": password.expose() })),
                Auth::None,
            )
            .await?;
        v["accessJwt"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CliError::Failed("the relay did not hand out a session".into()))
    }

    async fn nonce(&self) -> Result<String, CliError> {
        let v = self.plain(Method::POST, "/v1/auth/nonce").await?;
        v["nonce"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CliError::Failed("the relay handed out no nonce".into()))
    }

    /// A proof of possession of `key` (not enrolled yet) for `method path`.
    pub async fn proof(&self, key: &Keypair, method: &str, path: &str) -> Result<String, CliError> {
        let aud = self.service_did().await?;
        let nonce = self.nonce().await?;
        Ok(device::token(key, None, &aud, method, path, &nonce))
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
    ) -> Result<reqwest::RequestBuilder, CliError> {
        let req = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        Ok(match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic(id, pw) => req.basic_auth(id, Some(pw.expose())),
            Auth::Device(d) => {
                let aud = self.service_did().await?;
                let nonce = self.nonce().await?;
                let path_only = path.split('?').next().unwrap_or(path);
                req.bearer_auth(device::token(
                    &d.key,
                    Some(&d.id),
                    &aud,
                    method.as_str(),
                    path_only,
                    &nonce,
                ))
            }
        })
    }

    /// A JSON call.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
    ) -> Result<Value, CliError> {
        let mut req = self.request(method, path, auth).await?;
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(|e| self.unreachable(e))?;
        self.answer(res).await
    }

    /// A streamed GET (the restore stream); the response is checked for success.
    pub async fn stream(&self, path: &str, auth: Auth<'_>) -> Result<reqwest::Response, CliError> {
        let res = self
            .request(Method::GET, path, auth)
            .await?
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(self
                .answer(res)
                .await
                .err()
                .unwrap_or(CliError::Failed("the relay refused the download".into())))
        }
    }
}

/// An account as a device sees it: the relay, the DID, and this machine's device.
#[derive(Debug)]
pub struct AccountDevice {
    pub relay: Relay,
    pub did: String,
    pub device: Device,
}

/// The relay of the command and the DID of `account`.
pub async fn relay_and_did(ctx: &Ctx, account: &str) -> Result<(Relay, String), CliError> {
    let relay = Relay::new(&ctx.relay_url().await?)?;
    let did = relay.resolve(account).await?;
    Ok((relay, did))
}

/// This machine's device of `account`, enrolling it first (with the account password,
/// from `password_file` or asked) when it has none.
pub async fn account_device(
    ctx: &Ctx,
    account: &str,
    password_file: Option<&std::path::Path>,
) -> Result<AccountDevice, CliError> {
    let (relay, did) = relay_and_did(ctx, account).await?;
    if let Some(mut device) = Device::load(&ctx.data_dir, &did, &relay.url)? {
        if device.status == "pending" {
            // Enrolled by a transfer: active once the other device completed it.
            match relay
                .json(
                    Method::GET,
                    "/v1/keys/rotation-log",
                    None,
                    Auth::Device(&device),
                )
                .await
            {
                Ok(_) => {
                    device.status = "active".into();
                    device.save(&ctx.data_dir)?;
                }
                Err(CliError::Relay { name, .. }) if name == "DevicePending" => {
                    return Err(CliError::Failed(format!(
                        "this machine's device {} waits for the other device to complete the \
                         transfer (pdsctl transfer complete on that device)",
                        device.id
                    )));
                }
                Err(e) => return Err(e),
            }
        }
        return Ok(AccountDevice { relay, did, device });
    }
    let password = ctx.password(password_file, account, "--password-file")?;
    let session = relay.create_session(&did, &password).await?;
    drop(password);
    let key = device::new_key();
    let proof = relay.proof(&key, "POST", "/v1/devices").await?;
    let name = device::default_name();
    let v = relay
        .json(
            Method::POST,
            "/v1/devices",
            Some(&json!({
                "name": name,
                "platform": device::platform(),
                "publicKey": key.did_key(),
                "proof": proof,
            })),
            Auth::Bearer(&session),
        )
        .await?;
    let id = v["device"]["id"]
        .as_str()
        .ok_or_else(|| CliError::Failed("the relay did not name the new device".into()))?
        .to_string();
    let device = Device {
        did: did.clone(),
        relay: relay.url.clone(),
        id,
        name,
        platform: device::platform().into(),
        status: "active".into(),
        key,
    };
    let path = device.save(&ctx.data_dir)?;
    ctx.note(&format!(
        "enrolled this machine as device {} of {did} (key in {})",
        device.id,
        path.display()
    ));
    Ok(AccountDevice { relay, did, device })
}
