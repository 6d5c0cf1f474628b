"""Device-API credentials for the schemathesis run (tests/fuzz/schemathesis.sh).

`setup` signs up a phone with POST /v1/accounts/mobile and enrols a Linux "desktop"
with the account session, then writes the state (keys as PEM, ids, tokens) to a JSON
file. `hooks` (loaded by schemathesis through SCHEMATHESIS_HOOKS) reads that file and
signs a fresh device token (ES256, low-S, one nonce each) for every generated request
to an endpoint that takes one, and sends the account session where only a session fits.
Path parameters are sometimes pointed at the real account and devices, so the fuzzer
reaches past "not found".

Only P-256 keys are made here, as the relay requires for devices.
"""

import base64
import json
import os
import secrets
import sys
import time
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b58(b: bytes) -> str:
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(b) - len(b.lstrip(b"\0"))
    return "1" * pad + out


def did_key(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return "did:key:z" + b58(bytes([0x80, 0x24]) + point)  # varint of 0x1200 (p256-pub)


def sign(key: ec.EllipticCurvePrivateKey, msg: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
    if s > P256_N // 2:
        s = P256_N - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def http(method: str, url: str, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def nonce(base: str) -> str:
    status, v = http("POST", f"{base}/v1/auth/nonce")
    assert status == 200, v
    return v["nonce"]


def token(base, aud, key, iss, method, path, kid=None) -> str:
    header = {"alg": "ES256", "typ": "device+jwt"}
    if kid:
        header["kid"] = kid
    now = int(time.time())
    claims = {
        "iss": iss, "aud": aud, "htm": method.upper(), "htu": path,
        "nonce": nonce(base), "iat": now, "exp": now + 120, "jti": secrets.token_hex(8),
    }
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing_input + "." + b64url(sign(key, signing_input.encode()))


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def setup(base: str, out: str) -> None:
    status, desc = http("GET", f"{base}/xrpc/com.atproto.server.describeServer")
    assert status == 200, desc
    aud = desc["did"]
    phone = ec.generate_private_key(ec.SECP256R1())
    user = ec.generate_private_key(ec.SECP256R1())
    handle = f"fz{secrets.token_hex(4)}.test"
    proof = token(base, aud, phone, did_key(phone), "POST", "/v1/accounts/mobile")
    status, acct = http("POST", f"{base}/v1/accounts/mobile", {
        "handle": handle, "deviceKey": did_key(phone), "rotationKey": did_key(user),
        "deviceName": "fuzz phone", "platform": "ios", "proof": proof,
    })
    assert status == 200, acct
    desk = ec.generate_private_key(ec.SECP256R1())
    proof = token(base, aud, desk, did_key(desk), "POST", "/v1/devices")
    status, enrolled = http("POST", f"{base}/v1/devices", {
        "name": "fuzz desktop", "platform": "linux", "publicKey": did_key(desk), "proof": proof,
    }, token=acct["accessJwt"])
    assert status == 200, enrolled
    spare = ec.generate_private_key(ec.SECP256R1())
    proof = token(base, aud, spare, did_key(spare), "POST", "/v1/devices")
    status, spare_row = http("POST", f"{base}/v1/devices", {
        "name": "fuzz spare", "platform": "macos", "publicKey": did_key(spare), "proof": proof,
    }, token=acct["accessJwt"])
    assert status == 200, spare_row
    state = {
        "base": base, "aud": aud, "did": acct["did"], "session": acct["accessJwt"],
        "devices": [
            {"id": acct["deviceId"], "pem": pem(phone)},
            {"id": enrolled["device"]["id"], "pem": pem(desk)},
        ],
        # The one device the fuzzer may really de-enrol.
        "spare": spare_row["device"]["id"],
    }
    with open(out, "w") as f:
        json.dump(state, f)
    print(f"fuzz account {acct['did']} with devices {[d['id'] for d in state['devices']]}")


if __name__ == "__main__":
    setup(sys.argv[1].rstrip("/"), sys.argv[2])
