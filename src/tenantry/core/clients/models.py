"""OAuth 2.0 / OpenID Connect clients, their secrets, the consents users gave them, and what they were issued."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, JSONDocument, Timestamped, id_column, utcnow

CONFIDENTIAL = "confidential"
PUBLIC = "public"


class OAuthClient(Timestamped, Base):
    """An application that signs users in. ``org_id`` None: a platform client (users of every organization)."""

    __tablename__ = "oauth_clients"

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    redirect_uris: Mapped[list[str]]
    post_logout_redirect_uris: Mapped[list[str]]
    allowed_origins: Mapped[list[str]]
    grant_types: Mapped[list[str]]
    permissions: Mapped[list[str] | None] = mapped_column(JSONDocument, default=None)
    """When set, the only permissions its tokens carry (to keep them small); None: every one the user holds."""
    created_by: Mapped[str | None] = mapped_column(String(24), default=None)


class ClientSecret(Base):
    """A client secret, kept only as its SHA-256; a rotated-out secret keeps working until ``expires_at``."""

    __tablename__ = "oauth_client_secrets"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


class ClientConsent(Base):
    """A user agreed that a client may sign them in (asked the first time for organization-owned clients)."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("client_id", "user_id"),)

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthorizationCode(Base):
    """A one-time code of the authorization endpoint, kept hashed, bound to client, redirect URI and PKCE.

    ``family_id`` is the session its tokens were issued in: a second redemption ends that session."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[str] = id_column()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), default=None)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text, default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    browser_session_id: Mapped[str | None] = mapped_column(String(24), default=None)
    auth_time: Mapped[datetime]
    amr: Mapped[list[str] | None] = mapped_column(default=None)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    family_id: Mapped[str | None] = mapped_column(String(24), default=None)


class ClientGrant(Base):
    """What a session of tokens issued to a client is for: keyed by the refresh-token family (the ``sid`` of
    its access tokens), so refreshing keeps the client, organization and scope."""

    __tablename__ = "oauth_grants"

    family_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), default=None)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[datetime]
    amr: Mapped[list[str] | None] = mapped_column(default=None)
    browser_session_id: Mapped[str | None] = mapped_column(String(24), index=True, default=None)
    parent_family_id: Mapped[str | None] = mapped_column(String(24), index=True, default=None)
    """The session this one was exchanged from (token exchange): it ends with that one."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
