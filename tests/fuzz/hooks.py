"""schemathesis hooks for the device API: credentials per request (see device_auth.py)."""

import json
import os
import random

import schemathesis
from cryptography.hazmat.primitives import serialization

import device_auth

STATE = json.load(open(os.environ["FUZZ_STATE"]))
KEYS = [
    (d["id"], serialization.load_pem_private_key(d["pem"].encode(), password=None))
    for d in STATE["devices"]
]


def _schemes(operation):
    sec = operation.definition.raw.get("security", [])
    return {name for req in sec for name in req}


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    # Half the time, aim at the real account and devices instead of random strings.
    if path_parameters and random.random() < 0.5:
        if "did" in path_parameters:
            path_parameters["did"] = STATE["did"]
        if "id" in path_parameters:
            path_parameters["id"] = random.choice(KEYS)[0]
    return path_parameters


def _protect_own_devices(case):
    # De-enrolling the devices the fuzzer signs with would leave nothing to authenticate
    # with (schemathesis also reuses ids it saw in responses): only the spare may go.
    params = case.path_parameters or {}
    if case.method.upper() == "DELETE" and params.get("id") in {k for k, _ in KEYS}:
        params["id"] = STATE["spare"]
        case.path_parameters = params


@schemathesis.auth(refresh_interval=None)
class DeviceOrSession:
    def get(self, case, ctx):
        # Tokens are made per request in `set` (each needs a fresh nonce); schemathesis
        # only calls `set` when `get` returns something.
        return "per-request"

    def set(self, case, data, ctx):
        _protect_own_devices(case)
        schemes = _schemes(case.operation)
        headers = dict(case.headers or {})
        if "deviceToken" in schemes:
            kid, key = random.choice(KEYS)
            path = case.formatted_path
            headers["Authorization"] = "Bearer " + device_auth.token(
                STATE["base"], STATE["aud"], key, kid, case.method, path, kid=kid
            )
        elif "accountSession" in schemes:
            headers["Authorization"] = "Bearer " + STATE["session"]
        case.headers = headers
