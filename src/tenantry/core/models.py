"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from tenantry.core.apikeys.models import ApiKey, api_key_roles
from tenantry.core.audit.models import AuditEvent
from tenantry.core.clients.models import AuthorizationCode, ClientConsent, ClientGrant, ClientSecret, OAuthClient
from tenantry.core.configurations.models import Configuration
from tenantry.core.credentials.models import LoginFailure
from tenantry.core.memberships.models import Membership, membership_roles
from tenantry.core.mfa.models import MfaChallenge, MfaFactor, RecoveryCode
from tenantry.core.onetime.models import OneTimeToken
from tenantry.core.orgs.models import Organization, OrgBranding
from tenantry.core.outbox.models import OutboxMessage
from tenantry.core.partners.models import PartnerLink
from tenantry.core.resources.models import Resource, membership_resource_roles
from tenantry.core.roles.models import AppPermission, OrgRoleState, Role
from tenantry.core.sessions.models import BrowserSession
from tenantry.core.tokens.models import RefreshToken, SigningKey
from tenantry.core.users.models import User
from tenantry.core.webhooks.models import WebhookDelivery, WebhookEndpoint
from tenantry.db.base import Base

__all__ = [
    "ApiKey",
    "AppPermission",
    "AuditEvent",
    "AuthorizationCode",
    "Base",
    "BrowserSession",
    "ClientConsent",
    "ClientGrant",
    "ClientSecret",
    "Configuration",
    "LoginFailure",
    "Membership",
    "MfaChallenge",
    "MfaFactor",
    "OAuthClient",
    "OneTimeToken",
    "OrgBranding",
    "OrgRoleState",
    "Organization",
    "OutboxMessage",
    "PartnerLink",
    "RecoveryCode",
    "RefreshToken",
    "Resource",
    "Role",
    "SigningKey",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "api_key_roles",
    "membership_resource_roles",
    "membership_roles",
]
