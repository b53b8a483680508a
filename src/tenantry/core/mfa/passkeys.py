"""Passkeys (WebAuthn, with py_webauthn): registering one, listing and removing them, and checking an assertion.

The relying party is this server: its id is the host of ``TENANTRY_BASE_URL`` and the only origin accepted
is that URL's scheme, host and port. Every ceremony starts with a challenge made here: 32 random bytes,
kept only as their SHA-256, usable once and for ``CHALLENGE_TTL_SECONDS``, and bound to what it is for
(the account registering, or the sign-in whose second step it answers). The browser's answer names its
challenge (in ``clientDataJSON``), which is how it is found again. Signature counters are checked (a
counter that goes backwards means a cloned authenticator) and kept.

A passkey used with user verification (PIN or biometrics on the device) is two factors in one: something
you have and something you know or are. ``amr`` names it ``hwk`` (a key bound to one device) or ``swk``
(a synced passkey: the authenticator says it may be backed up), and ``mfa``.

py_webauthn is imported by the functions that use it, not here: with pyasn1, pyOpenSSL and cbor2 it keeps
5 MiB resident, and a served process that nobody registers or presents a passkey to never needs it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.credentials import lockout
from tenantry.core.flows.context import Flows
from tenantry.core.mfa import notice
from tenantry.core.mfa.models import PASSWORDLESS, REGISTER, SECOND_FACTOR, WebAuthnChallenge, WebAuthnCredential
from tenantry.core.mfa.schemas import PASSKEY, PasskeyOut
from tenantry.core.mfa.stepup import ensure_second_factor_proven
from tenantry.core.sessions import service as browser_sessions
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput, NotFound
from tenantry.settings import Settings

if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

CHALLENGE_TTL_SECONDS = 300
TIMEOUT_MS = 120_000
MAX_PASSKEYS = 20
MAX_CREDENTIAL_JSON = 64_000
HARDWARE_KEY = "hwk"
SOFTWARE_KEY = "swk"


class BadPasskey(InvalidInput):
    """The browser's answer does not prove a passkey of this relying party for this challenge."""

    def __init__(self, reason: str = "was not accepted; try again") -> None:
        super().__init__([FieldError("credential", reason)])


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str

    @classmethod
    def of(cls, settings: Settings) -> "RelyingParty":
        parts = urlsplit(settings.base_url)
        return cls(id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}", name="Tenantry")


@dataclass(frozen=True)
class Asserted:
    """A checked assertion: the passkey, and the ``amr`` it adds (``hwk``/``swk``, with ``mfa`` when verified)."""

    credential: WebAuthnCredential
    amr: list[str]


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


async def _new_challenge(
    session: AsyncSession, purpose: str, *, user_id: str | None = None, mfa_challenge_id: str | None = None
) -> bytes:
    from webauthn.helpers import generate_challenge  # deferred: see the module's docstring

    challenge = generate_challenge()
    now = utcnow()
    session.add(
        WebAuthnChallenge(
            challenge_hash=_hash(challenge),
            purpose=purpose,
            user_id=user_id,
            mfa_challenge_id=mfa_challenge_id,
            created_at=now,
            expires_at=now + timedelta(seconds=CHALLENGE_TTL_SECONDS),
        )
    )
    await session.flush()
    return challenge


def _parsed(credential_json: str) -> tuple[dict[str, object], bytes]:
    """The credential as JSON, and the challenge its ``clientDataJSON`` answers."""
    from webauthn.helpers import base64url_to_bytes  # deferred: see the module's docstring

    if not credential_json or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise BadPasskey("is missing or too long")
    try:
        credential = json.loads(credential_json)
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        return credential, base64url_to_bytes(client_data["challenge"])
    except (ValueError, KeyError, TypeError) as error:
        raise BadPasskey("is not a WebAuthn credential") from error


async def _take_challenge(
    session: AsyncSession,
    challenge: bytes,
    purpose: str,
    *,
    user_id: str | None = None,
    mfa_challenge_id: str | None = None,
) -> None:
    """Spend the challenge (once: of concurrent answers one wins), if it is live and bound as expected."""
    result = await session.execute(
        update(WebAuthnChallenge)
        .where(
            WebAuthnChallenge.challenge_hash == _hash(challenge),
            WebAuthnChallenge.purpose == purpose,
            WebAuthnChallenge.user_id.is_(None) if user_id is None else WebAuthnChallenge.user_id == user_id,
            WebAuthnChallenge.mfa_challenge_id.is_(None)
            if mfa_challenge_id is None
            else WebAuthnChallenge.mfa_challenge_id == mfa_challenge_id,
            WebAuthnChallenge.spent_at.is_(None),
            WebAuthnChallenge.expires_at > utcnow(),
        )
        .values(spent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise BadPasskey("answers no open request (it was used, or open too long); try again")


async def of_user(session: AsyncSession, user_id: str) -> list[WebAuthnCredential]:
    statement = select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)
    return list(await session.scalars(statement.order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)))


async def has_any(session: AsyncSession, user_id: str) -> bool:
    statement = select(WebAuthnCredential.id).where(WebAuthnCredential.user_id == user_id).limit(1)
    return (await session.scalar(statement)) is not None


@cache
def _transports() -> frozenset[str]:
    """The transports WebAuthn names (``usb``, ``nfc``, ``internal``…): others a browser sends are dropped.
    Built once, on first use (py_webauthn is deferred)."""
    from webauthn.helpers.structs import AuthenticatorTransport  # deferred: see the module's docstring

    return frozenset(transport.value for transport in AuthenticatorTransport)


def _descriptors(credentials: list[WebAuthnCredential]) -> list["PublicKeyCredentialDescriptor"]:
    from webauthn.helpers import base64url_to_bytes  # deferred: see the module's docstring
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    known = _transports()
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(row.credential_id),
            transports=[AuthenticatorTransport(name) for name in row.transports if name in known],
        )
        for row in credentials
    ]


def kind_of(row: WebAuthnCredential) -> str:
    """The ``amr`` a passkey proves: ``swk`` when it may be synced to other devices, else ``hwk``."""
    return SOFTWARE_KEY if row.backup_eligible else HARDWARE_KEY


def out(row: WebAuthnCredential) -> PasskeyOut:
    kind = kind_of(row)
    return PasskeyOut(id=row.id, name=row.name, kind=kind, created_at=row.created_at, last_used_at=row.last_used_at)


async def registration_options(session: AsyncSession, settings: Settings, user: User) -> str:
    """Options (JSON, for ``navigator.credentials.create``) for a new discoverable passkey of ``user``."""
    import webauthn  # deferred: see the module's docstring
    from webauthn.helpers import options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    existing = await of_user(session, user.id)
    if len(existing) >= MAX_PASSKEYS:
        raise InvalidInput([FieldError("passkey", f"at most {MAX_PASSKEYS} passkeys per account; remove one first")])
    rp = RelyingParty.of(settings)
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user.email,
        user_id=user.id.encode(),
        user_display_name=f"{user.first_name} {user.last_name}".strip() or user.email,
        challenge=await _new_challenge(session, REGISTER, user_id=user.id),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    return options_to_json(options)


async def register(
    session: AsyncSession, flows: Flows, actor: Actor, user: User, credential_json: str, name: str
) -> WebAuthnCredential:
    """Keep the passkey the browser made for a challenge of ``registration_options``; added to an account that
    has a second factor only by a session that proved one (``stepup``), and told to the address (whose owner may
    remove it) unless that factor was trusted (``notice``). The account's sign-ins without a
    second factor end (``sessions.service.end_one_factor``): the session that made it goes on in a new one."""
    import webauthn  # deferred: see the module's docstring
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    await ensure_second_factor_proven(session, actor, user)
    await lockout.one_at_a_time(session, lockout.account_key(user.email))  # as a sign-in holds it: end_one_factor
    name = " ".join(name.split())[:100] or "Passkey"
    credential, challenge = _parsed(credential_json)
    await _take_challenge(session, challenge, REGISTER, user_id=user.id)
    rp = RelyingParty.of(flows.settings)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        raise BadPasskey() from error
    credential_id = bytes_to_base64url(verified.credential_id)
    taken = select(WebAuthnCredential.id).where(WebAuthnCredential.credential_id == credential_id)
    if await session.scalar(taken) is not None:
        raise BadPasskey("is already registered")
    response = credential.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    known = _transports()
    row = WebAuthnCredential(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
        aaguid=str(verified.aaguid),
        backup_eligible=verified.credential_device_type == "multi_device",
        transports=[str(t) for t in transports if str(t) in known] if isinstance(transports, list) else [],
        enrolled_on_one_factor=await notice.made_on_one_factor_told(session, flows, actor, user, PASSKEY),
    )
    session.add(row)
    await session.flush()
    await browser_sessions.end_one_factor(session, user.id)
    record_for_user(
        session, actor, "mfa.enrolled", user.id, org_id=None, details={"method": PASSKEY, "passkey_id": row.id}
    )
    return row


async def remove(session: AsyncSession, actor: Actor, user: User, passkey_id: str) -> None:
    """Remove one of the account's passkeys (by a session that proved a second factor: ``stepup``)."""
    await ensure_second_factor_proven(session, actor, user)
    result = await session.execute(
        delete(WebAuthnCredential)
        .where(WebAuthnCredential.id == passkey_id, WebAuthnCredential.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("no passkey of yours has this id")
    details = {"method": PASSKEY, "passkey_id": passkey_id}
    record_for_user(session, actor, "mfa.removed", user.id, org_id=None, details=details)


async def remove_all(session: AsyncSession, user_id: str) -> int:
    result = await session.execute(
        delete(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


async def assertion_options(
    session: AsyncSession, settings: Settings, *, user_id: str | None = None, mfa_challenge_id: str | None = None
) -> str:
    """Options (JSON, for ``navigator.credentials.get``): for the passkeys of ``user_id`` answering the sign-in
    ``mfa_challenge_id``, or (neither given) for any discoverable passkey, to sign in with it alone."""
    import webauthn  # deferred: see the module's docstring
    from webauthn.helpers import options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    allowed = await of_user(session, user_id) if user_id is not None else []
    purpose = SECOND_FACTOR if mfa_challenge_id is not None else PASSWORDLESS
    options = webauthn.generate_authentication_options(
        rp_id=RelyingParty.of(settings).id,
        challenge=await _new_challenge(session, purpose, mfa_challenge_id=mfa_challenge_id),
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED
        if mfa_challenge_id is None
        else UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options)


@dataclass(frozen=True)
class Presented:
    """An assertion whose challenge was live (and is now spent), and the passkey it names (None: unknown)."""

    credential: dict[str, object]
    challenge: bytes
    passkey: WebAuthnCredential | None


async def present(session: AsyncSession, credential_json: str, *, mfa_challenge_id: str | None = None) -> Presented:
    """The first half of checking an assertion: its challenge (spent now, whatever follows) and its passkey."""
    credential, challenge = _parsed(credential_json)
    purpose = SECOND_FACTOR if mfa_challenge_id is not None else PASSWORDLESS
    await _take_challenge(session, challenge, purpose, mfa_challenge_id=mfa_challenge_id)
    raw_id = credential.get("rawId") or credential.get("id")
    passkey = None
    if isinstance(raw_id, str) and len(raw_id) <= 1400:
        statement = select(WebAuthnCredential).where(WebAuthnCredential.credential_id == raw_id)
        passkey = (await session.scalars(statement)).first()
    return Presented(credential, challenge, passkey)


async def verify(
    session: AsyncSession, settings: Settings, presented: Presented, *, require_user_verification: bool
) -> Asserted | None:
    """The second half: the signature, origin, relying party, user handle and counter; None when any is wrong.

    A right assertion moves the passkey's counter and last use."""
    import webauthn  # deferred: see the module's docstring
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    passkey = presented.passkey
    if passkey is None:
        return None
    response = presented.credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    rp = RelyingParty.of(settings)
    try:  # a handle that is not base64url is a wrong answer too (binascii.Error is a ValueError)
        if handle and base64url_to_bytes(str(handle)) != passkey.user_id.encode():
            return None
        verified = webauthn.verify_authentication_response(
            credential=presented.credential,
            expected_challenge=presented.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=require_user_verification,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, utcnow()
    await session.flush()
    kind = kind_of(passkey)
    return Asserted(passkey, [kind, "mfa"] if verified.user_verified else [kind])


async def purge(session: AsyncSession, expired_before: datetime) -> None:
    """Forget challenges that expired before ``expired_before``."""
    await session.execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.expires_at < expired_before)
        .execution_options(synchronize_session=False)
    )
