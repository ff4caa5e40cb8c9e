"""A small software authenticator for the API tests: one ES256 (P-256) passkey.

It answers the JSON options our server sends the way a browser plus a platform authenticator
would (``navigator.credentials.create()`` / ``.get()`` serialised with base64url), and can be
told to misbehave: sign for another origin or challenge, skip user verification, or report
an older sign count. Written with ``cryptography`` and ``cbor2`` because the ``soft-webauthn``
package conflicts with ``webauthn`` 3.
"""

import base64
import hashlib
import json
import secrets
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:8000"
UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, verified, attested data


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """Holds one credential once :meth:`create` has run; :meth:`get` signs assertions."""

    def __init__(self, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = 0
        self.rp_id: str | None = None
        self.user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps(data | {"crossOrigin": False}, separators=(",", ":")).encode()

    def _auth_data(self, rp_id: str, flags: int, count: int, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", count) + attested

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, user_verified: bool = True
    ) -> dict[str, Any]:
        """Register: a ``PublicKeyCredential`` with a "none" attestation, as JSON."""
        self.rp_id = options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        attested = (
            bytes(16)  # AAGUID: all zero for "none" attestation
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_public_key()
        )
        flags = UP | AT | (UV if user_verified else 0)
        auth_data = self._auth_data(self.rp_id, flags, self.sign_count, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._credential(client_data, attestationObject=attestation)

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        challenge: str | None = None,
        user_verified: bool = True,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """Sign an assertion. By default the sign count goes up by one, as a real one does."""
        assert self.rp_id is not None and self.user_handle is not None, "create() first"
        allowed = [c["id"] for c in options.get("allowCredentials") or []]
        assert not allowed or self.id in allowed, "this passkey was not offered"
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        flags = UP | (UV if user_verified else 0)
        auth_data = self._auth_data(options.get("rpId") or self.rp_id, flags, self.sign_count)
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return self._credential(
            client_data,
            authenticatorData=auth_data,
            signature=signature,
            userHandle=self.user_handle,
        )

    def _credential(self, client_data: bytes, **response: bytes) -> dict[str, Any]:
        """The ``PublicKeyCredential`` JSON a browser posts: binary fields in base64url."""
        fields = {"clientDataJSON": client_data} | response
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {name: b64url(value) for name, value in fields.items()},
            "authenticatorAttachment": "platform",
        }
