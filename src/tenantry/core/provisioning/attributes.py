"""Where the SCIM User and Group attributes live: account and membership columns, the membership's
``profile`` JSON document (everything an identity provider sends that the core has no field for), and
the grants of roles."""

from typing import Any

from sqlalchemy import Select, and_, case, func, literal, not_, or_, select

from tenantry.core.memberships.models import MEMBERSHIP_DISABLED, Membership, membership_roles
from tenantry.core.memberships.repository import account_disabled_as_seen, as_seen
from tenantry.core.provisioning.cells import Cell, Element, IdentityCell, Kind, Plural, json_cell, json_plural
from tenantry.core.provisioning.filter_tree import AttributeRef
from tenantry.core.provisioning.filters import Attributes, unsupported
from tenantry.core.provisioning.json_sql import JsonSql
from tenantry.core.roles.models import OrgRoleState, Role
from tenantry.core.users.models import User, live_account
from tenantry.db.base import in_text
from tenantry.errors import InvalidFilter

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
_BOOLEAN_SUBS: dict[str, Kind] = {"primary": "boolean"}


def member_is_active() -> Any:
    """SCIM ``active``: neither the account (as the organization sees it: ``account_disabled_as_seen``) nor the
    membership is disabled (invited members are active)."""
    return and_(not_(account_disabled_as_seen()), Membership.status != in_text(MEMBERSHIP_DISABLED))


def _later(first: Any, second: Any) -> Any:
    return case((second > first, second), else_=first)


def profile_path(ref: AttributeRef) -> list[str]:
    """The keys of the attribute in ``Membership.profile``: extensions nest under their schema URN."""
    path = [ref.attribute] if ref.schema == USER_SCHEMA else [ref.schema, ref.attribute]
    return [*path, ref.sub_attribute] if ref.sub_attribute else path


def _kind(ref: AttributeRef) -> Kind:
    return "boolean" if ref.type == "boolean" else "string"


def _is_complex(ref: AttributeRef) -> bool:
    return ref.sub_attribute is None and ref.type == "complex"


class UserAttributes(Attributes):
    def __init__(self, json: JsonSql) -> None:
        self.json = json

    def _columns(self, attribute: str, sub: str | None) -> Cell | None:
        match attribute, sub:
            case "id", None:
                return Cell(User.id, case_exact=True)
            case "userName", None:
                return IdentityCell(User.email)
            case "externalId", None:
                return Cell(Membership.external_id, case_exact=True)
            case "name", "givenName":
                return Cell(func.nullif(as_seen(User.first_name), ""))
            case "name", "familyName":
                return Cell(func.nullif(as_seen(User.last_name), ""))
            case "active", None:
                return Cell(member_is_active(), "boolean")
            case "meta", "created":
                return Cell(Membership.created_at, "datetime")
            case "meta", "lastModified":
                return Cell(_later(as_seen(User.updated_at, Membership.updated_at), Membership.updated_at), "datetime")
            case "meta", "resourceType":
                return Cell(literal("User"), case_exact=True)
        return None

    def cell(self, ref: AttributeRef) -> Cell:
        schema, attribute, sub = ref.schema, ref.attribute, ref.sub_attribute
        if schema == USER_SCHEMA:
            if attribute in ("password", "meta", "groups") and self._columns(attribute, sub) is None:
                raise unsupported(ref)
            if (column := self._columns(attribute, sub)) is not None:
                return column
            if attribute == "name" and sub is None:
                names = [
                    Cell(func.nullif(as_seen(column), "")).present() for column in (User.first_name, User.last_name)
                ]
                return Cell(or_(*names, self.json.has_value(Membership.profile, ["name"])), "presence")
        if _is_complex(ref):
            return Cell(self.json.has_value(Membership.profile, profile_path(ref)), "presence")
        return json_cell(self.json, Membership.profile, profile_path(ref), _kind(ref), ref.case_exact)

    def plural(self, ref: AttributeRef) -> Plural:
        schema, attribute = ref.schema, ref.attribute
        if schema == USER_SCHEMA and attribute == "groups":
            return Plural(_granted_roles)
        path = [attribute] if schema == USER_SCHEMA else [schema, attribute]
        plural = json_plural(self.json, Membership.profile, path, _BOOLEAN_SUBS)
        return _emails(plural) if schema == USER_SCHEMA and attribute == "emails" else plural


def _emails(plural: Plural) -> Plural:
    """``emails``, whose ``value`` also matches by key where it is the account's own email."""

    def rows() -> tuple[Select[Any], Element]:
        query, element = plural.rows()

        def with_identity(sub: str, case_exact: bool) -> Cell:
            cell = element(sub, case_exact)
            return IdentityCell(cell.expression, own_email=User.email) if sub == "value" else cell

        return query, with_identity

    return Plural(rows, plural.sort_value)


def _granted_roles() -> tuple[Select[Any], Element]:
    query = select(literal(1)).select_from(membership_roles).where(membership_roles.c.membership_id == Membership.id)

    def element(sub: str, case_exact: bool) -> Cell:
        if sub == "value":
            return Cell(membership_roles.c.role_id, case_exact=True)
        if sub == "type":
            return Cell(literal("direct"), case_exact=True)
        raise unsupported_sub("groups", sub)

    return query, element


def unsupported_sub(attribute: str, sub: str) -> InvalidFilter:
    return InvalidFilter(f"'{attribute}.{sub}' cannot be filtered on here")


class GroupAttributes(Attributes):
    """Groups are roles; ``OrgRoleState`` (outer-joined) holds their external id in this organization."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id

    def cell(self, ref: AttributeRef) -> Cell:
        match ref.attribute, ref.sub_attribute:
            case "id", None:
                return Cell(Role.id, case_exact=True)
            case "displayName", None:
                return Cell(Role.name)
            case "externalId", None:
                return Cell(OrgRoleState.external_id, case_exact=True)
            case "meta", "created":
                return Cell(Role.created_at, "datetime")
            case "meta", "lastModified":
                return Cell(
                    _later(Role.updated_at, func.coalesce(OrgRoleState.updated_at, Role.updated_at)), "datetime"
                )
            case "meta", "resourceType":
                return Cell(literal("Group"), case_exact=True)
        raise unsupported(ref)

    def plural(self, ref: AttributeRef) -> Plural:
        if ref.attribute != "members":
            raise unsupported(ref)
        org_id = self.org_id

        def rows() -> tuple[Select[Any], Element]:
            query = (
                select(literal(1))
                .select_from(membership_roles)
                .join(Membership, Membership.id == membership_roles.c.membership_id)
                .join(User, User.id == Membership.user_id)
                .where(
                    membership_roles.c.role_id == Role.id,
                    Membership.org_id == org_id,
                    live_account(),
                )
            )

            def element(sub: str, case_exact: bool) -> Cell:
                if sub == "value":
                    return Cell(Membership.user_id, case_exact=True)
                if sub == "type":
                    return Cell(literal("User"), case_exact=True)
                raise unsupported_sub("members", sub)

            return query, element

        return Plural(rows)
