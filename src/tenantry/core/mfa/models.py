from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow

TOTP = "totp"

VERIFY = "verify"
"""A challenge that a second factor answers."""
ENROLL = "enroll"
"""A challenge that allows only enrolling a first factor (an organization requires one)."""


class MfaFactor(Base):
    """A second factor of an account. A TOTP factor keeps its secret sealed (``core.secretbox``) and the
    last time step a code was accepted for, so that no code works twice; it counts once confirmed, in the
    session that began setting it up (``started_in``)."""

    __tablename__ = "mfa_factors"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    secret_sealed: Mapped[str] = mapped_column(Text)
    last_used_step: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    started_in: Mapped[str | None] = mapped_column(String(40), default=None)
    """Until confirmed: the session that began setting the app up (``service.EnrolmentPlace``), the only one
    shown its secret again and allowed to confirm it: another session of the account (whoever else knows the
    password) neither learns the secret the owner scans nor confirms it."""
    enrolled_on_one_factor: Mapped[bool] = mapped_column(default=False)
    """Confirmed by a session that proved no trusted second factor (``stepup.made_on_one_factor``): not kept past
    the link its notice mailed to the address (``stepup.forget_one_factor_enrolments``)."""


class RecoveryCode(Base):
    """One single-use recovery code, kept as a SHA-256 (the codes carry 60 random bits)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class MfaChallenge(Base):
    """What a sign-in that proved its first factor holds until the second: the ``mfa_token`` (kept as a
    SHA-256), the methods already used (``amr``), the organization the sign-in named and the wrong answers so far."""

    __tablename__ = "mfa_challenges"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str | None] = mapped_column(String(24), default=None)
    """The organization the sign-in named, where it is recorded once finished (no foreign key: a challenge lives
    minutes, and one whose organization went is recorded nowhere, as the account no longer belongs to it)."""
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    amr: Mapped[list[str]] = mapped_column(default=list)
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None] = mapped_column(default=None)


REGISTER = "register"
"""A WebAuthn challenge of a passkey being registered by a signed-in account."""
SECOND_FACTOR = "second_factor"
"""A WebAuthn challenge answering a sign-in's second step (bound to its ``MfaChallenge``)."""
PASSWORDLESS = "passwordless"
"""A WebAuthn challenge of a sign-in with a passkey alone (the account is not known before the answer)."""


class WebAuthnCredential(Base):
    """A passkey: the public key an authenticator made for this relying party, and its signature counter."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    """base64url, as the browser names it."""
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    """COSE public key (public: nothing to encrypt)."""
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100))
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    backup_eligible: Mapped[bool] = mapped_column(default=False)
    """A synced passkey (``swk`` in ``amr``) rather than one bound to a device (``hwk``)."""
    transports: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    enrolled_on_one_factor: Mapped[bool] = mapped_column(default=False)
    """Made by a session that proved no trusted second factor (``stepup.made_on_one_factor``): not kept past a
    the link its notice mailed to the address (``stepup.forget_one_factor_enrolments``)."""


class WebAuthnChallenge(Base):
    """A WebAuthn challenge handed to a browser: kept as its SHA-256, used once, for a few minutes, bound to the
    account registering (``user_id``) or to the sign-in it answers (``mfa_challenge_id``)."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[str] = id_column()
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None)
    mfa_challenge_id: Mapped[str | None] = mapped_column(
        ForeignKey("mfa_challenges.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None] = mapped_column(default=None)
