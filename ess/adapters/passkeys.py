"""Passkeys (WebAuthn) with py_webauthn: the options a browser needs and the checks of what it answers.

py_webauthn (and what it pulls in) is imported on the first passkey ceremony, not when the app starts: most requests
and most starts never need it (cold start, see docs/performance.md)."""

from __future__ import annotations

import json
from typing import Final

from ess.domain.mfa.model import SecondFactorWrong
from ess.domain.mfa.ports import PasskeyRegistration

TIMEOUT_MS: Final = 120_000
MAX_RESPONSE_LENGTH: Final = 64 * 1024


class WebauthnPasskeys:
    """Implements the Passkeys port for one relying party: `rp_id` is the host name of `server.base_url`, `origin`
    its scheme, host and port. A passkey is a second factor here (the password came first): user verification is
    preferred, not required, so plain security keys work too. No attestation is asked for (privacy, and the
    authenticator's make does not matter for a second factor)."""

    def __init__(self, *, rp_id: str, rp_name: str, origin: str) -> None:
        self._rp_id = rp_id
        self._rp_name = rp_name
        self._origin = origin

    def registration_options(
        self, *, login: str, display_name: str, user_handle: bytes, challenge: bytes, exclude: list[str]
    ) -> str:
        from webauthn import base64url_to_bytes, generate_registration_options, options_to_json  # noqa: PLC0415
        from webauthn.helpers.structs import (  # noqa: PLC0415
            AuthenticatorSelectionCriteria,
            PublicKeyCredentialDescriptor,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        options = generate_registration_options(
            rp_id=self._rp_id,
            rp_name=self._rp_name,
            user_name=login,
            user_id=user_handle,
            user_display_name=display_name or login,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude],
        )
        return str(options_to_json(options))

    def verify_registration(self, response: str, *, challenge: bytes) -> PasskeyRegistration:
        _check_size(response)
        from webauthn import verify_registration_response  # noqa: PLC0415
        from webauthn.helpers import bytes_to_base64url  # noqa: PLC0415
        from webauthn.helpers.exceptions import WebAuthnException  # noqa: PLC0415

        try:
            verified = verify_registration_response(
                credential=response,
                expected_challenge=challenge,
                expected_rp_id=self._rp_id,
                expected_origin=self._origin,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise SecondFactorWrong("The passkey could not be set up. Please try again.") from exc
        return PasskeyRegistration(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
        )

    def authentication_options(self, *, challenge: bytes, allow: list[str]) -> str:
        from webauthn import base64url_to_bytes, generate_authentication_options, options_to_json  # noqa: PLC0415
        from webauthn.helpers.structs import (  # noqa: PLC0415
            PublicKeyCredentialDescriptor,
            UserVerificationRequirement,
        )

        options = generate_authentication_options(
            rp_id=self._rp_id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in allow],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return str(options_to_json(options))

    def credential_of(self, response: str) -> str:
        _check_size(response)
        from webauthn import base64url_to_bytes  # noqa: PLC0415
        from webauthn.helpers import bytes_to_base64url  # noqa: PLC0415

        try:
            raw_id = json.loads(response)["rawId"]
            return bytes_to_base64url(base64url_to_bytes(str(raw_id)))
        except (ValueError, KeyError, TypeError) as exc:
            raise SecondFactorWrong("The passkey could not be verified.") from exc

    def verify_authentication(self, response: str, *, challenge: bytes, public_key: str, sign_count: int) -> int:
        _check_size(response)
        from webauthn import base64url_to_bytes, verify_authentication_response  # noqa: PLC0415
        from webauthn.helpers.exceptions import WebAuthnException  # noqa: PLC0415

        try:
            verified = verify_authentication_response(
                credential=response,
                expected_challenge=challenge,
                expected_rp_id=self._rp_id,
                expected_origin=self._origin,
                credential_public_key=base64url_to_bytes(public_key),
                credential_current_sign_count=sign_count,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise SecondFactorWrong("The passkey could not be verified.") from exc
        return int(verified.new_sign_count)


def _check_size(response: str) -> None:
    if len(response) > MAX_RESPONSE_LENGTH:
        raise SecondFactorWrong("The passkey could not be verified.")
