#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Mint a compact JWS for the demo and the tests, signed with the openssl CLI.

Supports ES256/ES384/ES512 (the DER signature from openssl is converted to the
raw r||s form JWS requires), RS256/RS384/RS512 and the unsigned `none` form
(to show that the proxy rejects it). Standard library only.
"""
import argparse
import base64
import json
import subprocess
import sys
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der: bytes, size: int) -> bytes:
    """Converts an ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to r||s."""
    def read_len(buf, pos):
        first = buf[pos]
        if first < 0x80:
            return first, pos + 1
        n = first & 0x7F
        return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n

    if der[0] != 0x30:
        raise ValueError("signature is not a DER sequence")
    _, pos = read_len(der, 1)
    out = b""
    for _ in range(2):
        if der[pos] != 0x02:
            raise ValueError("signature part is not a DER integer")
        length, pos = read_len(der, pos + 1)
        value = int.from_bytes(der[pos:pos + length], "big")
        out += value.to_bytes(size, "big")
        pos += length
    return out


def sign(alg: str, key: str, signing_input: bytes) -> bytes:
    digest = {"256": "-sha256", "384": "-sha384", "512": "-sha512"}[alg[2:]]
    der = subprocess.run(["openssl", "dgst", digest, "-sign", key], input=signing_input,
                         capture_output=True, check=True).stdout
    if alg.startswith("ES"):
        return der_to_raw(der, {"256": 32, "384": 48, "512": 66}[alg[2:]])
    return der


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", help="private key PEM (not needed for --alg none)")
    parser.add_argument("--alg", default="ES256", help="ES256, ES384, ES512, RS256, ... or none")
    parser.add_argument("--iss", help="issuer claim")
    parser.add_argument("--aud", help="audience claim; a JSON value is used as is")
    parser.add_argument("--sub", default="demo-operator")
    parser.add_argument("--ttl", type=int, default=600, help="seconds until exp (negative: expired)")
    parser.add_argument("--no-exp", action="store_true", help="omit the exp claim")
    parser.add_argument("--claim", action="append", default=[],
                        help="extra claim NAME=JSON, e.g. roles='[\"viewer\"]'")
    args = parser.parse_args()

    now = int(time.time())
    payload = {"sub": args.sub, "iat": now}
    if not args.no_exp:
        payload["exp"] = now + args.ttl
    if args.iss:
        payload["iss"] = args.iss
    if args.aud is not None:
        try:
            payload["aud"] = json.loads(args.aud)
        except json.JSONDecodeError:
            payload["aud"] = args.aud
    for claim in args.claim:
        name, _, value = claim.partition("=")
        payload[name] = json.loads(value)

    header = {"alg": args.alg, "typ": "JWT"}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(payload, separators=(",", ":")).encode())).encode()
    if args.alg.lower() == "none":
        print(signing_input.decode() + ".")
        return 0
    if not args.key:
        parser.error("--key is required for a signed token")
    print(signing_input.decode() + "." + b64url(sign(args.alg, args.key, signing_input)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
