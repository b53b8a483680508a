"""Core compiles its own filter tree, which any surface can build: no SCIM library is involved here."""

import pytest

from tenantry.core.orgs import repository as orgs
from tenantry.core.provisioning import service
from tenantry.core.provisioning.attributes import UserAttributes
from tenantry.core.provisioning.filter_tree import (
    And,
    AttributeRef,
    AttributeType,
    Compare,
    Not,
    Operator,
    Present,
    ValueSelection,
)
from tenantry.core.provisioning.filters import sort_key, where
from tenantry.core.provisioning.json_sql import json_sql
from tenantry.errors import InvalidFilter
from tenantry.runtime import Runtime
from tests.factories import Tenant

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _ref(attribute: str, sub: str | None = None, *, many: bool = False, kind: AttributeType = "string") -> AttributeRef:
    return AttributeRef(USER, attribute, sub, multivalued=many, case_exact=False, type=kind)


async def test_member_page_selects_and_sorts_by_core_filter_tree(runtime: Runtime, tenant: Tenant) -> None:
    for name in ("ada", "grace", "alan"):
        await tenant.add_user(f"{name}@tree.example", first_name=name.title())
    user_name, given_name = _ref("userName"), _ref("name", "givenName")
    condition = And(
        (
            Compare(user_name, Operator.ew, "@TREE.EXAMPLE"),
            Not(Compare(given_name, Operator.eq, "grace")),
            Compare(_ref("active", kind="boolean"), Operator.eq, True),
        )
    )
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, tenant.id)
        assert org is not None
        attributes = service.user_attributes(session)
        order = [sort_key(given_name, attributes).desc()]
        total, found = await service.member_page(
            session, org, condition=where(condition, attributes), order=order, offset=0, limit=10
        )
    assert (total, [member.user.email for member in found]) == (2, ["alan@tree.example", "ada@tree.example"])


def test_value_selections_cannot_be_nested() -> None:
    emails = _ref("emails", many=True, kind="complex")
    nested = ValueSelection(emails, ValueSelection(emails, Present(_ref("emails", "type", many=True))))
    with pytest.raises(InvalidFilter, match="value selections cannot be nested"):
        where(nested, UserAttributes(json_sql("sqlite")))
