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


@schemathesis.auth(refresh_interval=None)
class DeviceOrSession:
    def get(self, case, ctx):
        return None

    def set(self, case, data, ctx):
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
