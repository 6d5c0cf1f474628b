//! Helpers for the device API tests: a device that signs its own tokens (P-256, with the
//! `pds` library), JSON calls to /v1, a phone sign-up, and a desktop-side repo built
//! with the `pds` library (the tests' own, independent of pdsctl's).

#![allow(dead_code)]

use crate::support::{Pdsd, random_suffix};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pds::Cid;
use pds::crypto::{Curve, Keypair, PublicKey};
use pds::data::Value as Ipld;
use pds::repo::{Mst, UnsignedCommit};
use pds::store::{BlockSink, BlockSource, MemoryBlockStore};
use pds::syntax::{Did, Tid};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// A blocking HTTP client for /v1.
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

fn parse(res: reqwest::blocking::Response) -> (u16, Value) {
    let st = res.status().as_u16();
    let text = res.text().unwrap_or_default();
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The relay's service DID (the `aud` of device tokens).
pub fn service_did(pds: &Pdsd) -> String {
    let (st, v) = pds
        .xrpc()
        .get("com.atproto.server.describeServer", &[], None);
    assert_eq!(st, 200, "{v}");
    v["did"].as_str().expect("did").to_string()
}

/// A fresh nonce.
pub fn nonce(pds: &Pdsd) -> String {
    let (st, v) = parse(
        http()
            .post(format!("{}/v1/auth/nonce", pds.url))
            .send()
            .expect("nonce"),
    );
    assert_eq!(st, 200, "{v}");
    v["nonce"].as_str().expect("nonce").to_string()
}

/// Claims a test may bend.
#[derive(Debug, Clone)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub htm: String,
    pub htu: String,
    pub nonce: String,
    pub iat: i64,
    pub exp: i64,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Sign a device token (header typ device+jwt, ES256 by default).
pub fn sign_token(key: &Keypair, kid: Option<&str>, c: &Claims) -> String {
    let mut header = json!({ "alg": key.curve().jwt_alg(), "typ": "device+jwt" });
    if let Some(k) = kid {
        header["kid"] = json!(k);
    }
    let claims = json!({
        "iss": c.iss, "aud": c.aud, "htm": c.htm, "htu": c.htu, "nonce": c.nonce,
        "iat": c.iat, "exp": c.exp, "jti": random_suffix(),
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"))
    );
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// A device: a P-256 key, and its id once enrolled.
pub struct Device {
    pub url: String,
    pub aud: String,
    pub key: Keypair,
    pub id: String,
    pub pds_nonce_url: String,
}

impl Device {
    /// A new, not yet enrolled device of `pds`.
    pub fn new(pds: &Pdsd) -> Device {
        Device {
            url: pds.url.clone(),
            aud: service_did(pds),
            key: Keypair::generate(Curve::P256),
            id: String::new(),
            pds_nonce_url: format!("{}/v1/auth/nonce", pds.url),
        }
    }

    pub fn did_key(&self) -> String {
        self.key.did_key()
    }

    fn fresh_nonce(&self) -> String {
        let (st, v) = parse(http().post(&self.pds_nonce_url).send().expect("nonce"));
        assert_eq!(st, 200, "{v}");
        v["nonce"].as_str().expect("nonce").to_string()
    }

    /// Claims for `method path` with a fresh nonce, as this device.
    pub fn claims(&self, method: &str, path: &str) -> Claims {
        Claims {
            iss: self.id.clone(),
            aud: self.aud.clone(),
            htm: method.into(),
            htu: path.into(),
            nonce: self.fresh_nonce(),
            iat: now(),
            exp: now() + 120,
        }
    }

    /// A proof of possession of this key for `method path` (before enrolment).
    pub fn proof(&self, method: &str, path: &str) -> String {
        let mut c = self.claims(method, path);
        c.iss = self.did_key();
        sign_token(&self.key, None, &c)
    }

    /// A device token for `method path`.
    pub fn token(&self, method: &str, path: &str) -> String {
        sign_token(&self.key, Some(&self.id), &self.claims(method, path))
    }

    /// Call /v1 as this device with a JSON body (or none).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let token = self.token(method, path);
        self.call_with(method, path, body, &token)
    }

    /// Call with a given token.
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: &str,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = http()
            .request(m, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        parse(req.send().expect("request"))
    }

    /// GET raw bytes as this device.
    pub fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let res = http()
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.token("GET", path))
            .send()
            .expect("request");
        let st = res.status().as_u16();
        (st, res.bytes().map(|b| b.to_vec()).unwrap_or_default())
    }
}

/// POST /v1 without credentials.
pub fn post(pds: &Pdsd, path: &str, body: &Value) -> (u16, Value) {
    parse(
        http()
            .post(format!("{}{path}", pds.url))
            .json(body)
            .send()
            .expect("request"),
    )
}

/// Any /v1 call with a bearer token (an account session, say).
pub fn call_bearer(
    pds: &Pdsd,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http()
        .request(m, format!("{}{path}", pds.url))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    parse(req.send().expect("request"))
}

/// A phone that signed up with POST /v1/accounts/mobile.
pub struct Phone {
    pub device: Device,
    pub rotation_key: Keypair,
    pub did: String,
    pub handle: String,
    pub access: String,
    pub refresh: String,
    pub response: Value,
}

/// Mobile sign-up with a fresh device key and user rotation key.
pub fn mobile_signup(pds: &Pdsd) -> Phone {
    let mut device = Device::new(pds);
    let rotation_key = Keypair::generate(Curve::Secp256k1);
    let handle = format!("m{}.test", random_suffix());
    let body = json!({
        "handle": handle,
        "email": null,
        "deviceKey": device.did_key(),
        "rotationKey": rotation_key.did_key(),
        "deviceName": "Test iPhone",
        "platform": "ios",
        "proof": device.proof("POST", "/v1/accounts/mobile"),
    });
    let (st, v) = post(pds, "/v1/accounts/mobile", &body);
    assert_eq!(st, 200, "mobile sign-up: {v}");
    device.id = v["deviceId"].as_str().expect("deviceId").to_string();
    Phone {
        device,
        rotation_key,
        did: v["did"].as_str().expect("did").to_string(),
        handle,
        access: v["accessJwt"].as_str().expect("accessJwt").to_string(),
        refresh: v["refreshJwt"].as_str().expect("refreshJwt").to_string(),
        response: v,
    }
}

/// A desktop enrolled (pending) without a session, then approved by `approver`.
pub fn pair_desktop(pds: &Pdsd, account: &str, approver: &Device) -> Device {
    let mut desk = Device::new(pds);
    let (st, v) = post(
        pds,
        "/v1/devices",
        &json!({
            "account": account,
            "name": "Test desktop",
            "platform": "linux",
            "publicKey": desk.did_key(),
            "proof": desk.proof("POST", "/v1/devices"),
        }),
    );
    assert_eq!(st, 200, "enrol desktop: {v}");
    assert_eq!(v["device"]["status"], "pending", "{v}");
    desk.id = v["device"]["id"].as_str().expect("id").to_string();
    let code = v["pairingCode"].as_str().expect("pairingCode").to_string();
    let (st, v) = approver.call(
        "POST",
        &format!("/v1/devices/{}/pair", desk.id),
        Some(&json!({ "code": code })),
    );
    assert_eq!(st, 200, "pair: {v}");
    assert_eq!(v["device"]["status"], "active", "{v}");
    desk
}

/// The DID document of a did:plc from the built-in directory.
pub fn plc_document(pds: &Pdsd, did: &str) -> Value {
    let url = pds.plc_url.clone().expect("dev PLC url");
    let res = http().get(format!("{url}/{did}")).send().expect("plc");
    assert_eq!(res.status().as_u16(), 200);
    res.json().expect("document")
}

/// The latest PLC operation's data (rotationKeys, verificationMethods...).
pub fn plc_data(pds: &Pdsd, did: &str) -> Value {
    let url = pds.plc_url.clone().expect("dev PLC url");
    let res = http().get(format!("{url}/{did}/data")).send().expect("plc");
    assert_eq!(res.status().as_u16(), 200);
    res.json().expect("data")
}

/// The `#atproto` key of a DID document.
pub fn atproto_key(doc: &Value) -> PublicKey {
    let vm = doc["verificationMethod"]
        .as_array()
        .expect("verificationMethod")
        .iter()
        .find(|m| m["id"].as_str().is_some_and(|i| i.ends_with("#atproto")))
        .expect("#atproto");
    PublicKey::from_multikey(vm["publicKeyMultibase"].as_str().expect("multibase")).expect("key")
}

/// A desktop's local copy of a repo, built with the pds library.
pub struct LocalRepo {
    pub did: Did,
    pub store: MemoryBlockStore,
    pub head_commit: Cid,
    pub data: Cid,
    pub rev: Tid,
}

/// What one local commit produced.
pub struct BuiltCommit {
    pub commit: UnsignedCommit,
    pub blocks: BTreeMap<Cid, Vec<u8>>,
}

impl LocalRepo {
    /// Load from a snapshot CAR.
    pub fn from_car(car: &[u8]) -> LocalRepo {
        let file = pds::car::read_all(car, pds::car::CarLimits::default()).expect("car");
        let root = file.roots[0];
        let commit =
            pds::repo::Commit::decode(file.blocks.get(&root).expect("commit")).expect("commit");
        let mut store = MemoryBlockStore::new();
        for (c, b) in file.blocks {
            store.put_block(c, b).expect("put");
        }
        LocalRepo {
            did: commit.did.clone(),
            store,
            head_commit: root,
            data: commit.data,
            rev: commit.rev,
        }
    }

    /// Build an unsigned commit applying `changes` (path -> Some(record) or None to delete).
    pub fn build(&self, changes: &[(&str, Option<Value>)]) -> BuiltCommit {
        let mut mst = Mst::load(&self.store, self.data);
        let mut blocks = BTreeMap::new();
        for (path, record) in changes {
            match record {
                Some(json) => {
                    let ipld: Ipld = pds::data::json::from_json(json).expect("record json");
                    let (cid, bytes) = pds::data::record_cid(&ipld).expect("record");
                    blocks.insert(cid, bytes);
                    mst.insert(path, cid).expect("insert");
                }
                None => {
                    mst.delete(path).expect("delete");
                }
            }
        }
        blocks.extend(mst.unstored_blocks());
        let rev = next_tid(&self.rev);
        BuiltCommit {
            commit: UnsignedCommit::new(self.did.clone(), mst.root(), rev, Some(self.head_commit)),
            blocks,
        }
    }

    /// Adopt a commit the relay signed.
    pub fn adopt(&mut self, built: &BuiltCommit, signed_cid: Cid, signed_bytes: Vec<u8>) {
        for (c, b) in &built.blocks {
            self.store.put_block(*c, b.clone()).expect("put");
        }
        self.store.put_block(signed_cid, signed_bytes).expect("put");
        self.head_commit = signed_cid;
        self.data = built.commit.data;
        self.rev = built.commit.rev.clone();
    }

    /// Whether a key is present.
    pub fn get(&self, path: &str) -> Option<Cid> {
        Mst::load(&self.store, self.data).get(path).expect("get")
    }
}

/// A TID after `prev` and not before now.
pub fn next_tid(prev: &Tid) -> Tid {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default();
    let micros = now.max(prev.timestamp_micros() + 1);
    Tid::from_parts(micros, 7)
}

/// The JSON body of POST /v1/relay/commits/sign.
pub fn sign_request(commit: &UnsignedCommit, blocks: &BTreeMap<Cid, Vec<u8>>) -> Value {
    let car = pds::car::to_bytes(&commit.data, blocks.iter()).expect("car");
    json!({
        "commit": {
            "did": commit.did.as_str(),
            "version": 3,
            "data": commit.data.to_string(),
            "rev": commit.rev.as_str(),
            "prev": commit.prev.map(|c| c.to_string()),
        },
        "blocks": STANDARD.encode(car),
    })
}

/// Send a built commit for signing; on success adopt it locally. Returns the answer.
pub fn push(desk: &Device, repo: &mut LocalRepo, built: &BuiltCommit) -> (u16, Value) {
    let res = desk.call(
        "POST",
        "/v1/relay/commits/sign",
        Some(&sign_request(&built.commit, &built.blocks)),
    );
    if res.0 == 200 {
        let cid = pds::data::cid::parse(res.1["cid"].as_str().expect("cid")).expect("cid");
        let bytes = STANDARD
            .decode(res.1["commit"].as_str().expect("commit"))
            .expect("base64");
        assert_eq!(pds::data::cid::for_cbor(&bytes), cid);
        repo.adopt(built, cid, bytes);
    }
    res
}

/// A post record.
pub fn post_record(text: &str) -> Value {
    json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2024-05-01T12:00:00.000Z",
    })
}

/// Store a block (for tests that forge repos).
pub fn store_get(store: &MemoryBlockStore, cid: &Cid) -> Option<Vec<u8>> {
    store.get_block(cid).expect("get")
}
