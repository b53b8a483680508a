"""Password rules: NIST defaults, an organization's own rules, and the strictest combination of several."""

import pytest

from tenantry.core.credentials.blocklist import common_passwords
from tenantry.core.credentials.policy import DEFAULT_POLICY, PasswordPolicy, context_words
from tenantry.core.credentials.schemas import PasswordPolicyUpdate
from tenantry.errors import InvalidInput


def test_the_shipped_blocklist_holds_at_least_ten_thousand_common_passwords() -> None:
    listed = common_passwords()
    assert len(listed) >= 10_000
    assert {"password", "123456789", "qwertyuiop", "iloveyou"} <= listed
    assert all(entry == entry.lower() for entry in listed)


@pytest.mark.parametrize("password", ["password", "PassWord", "12345678", "qwertyuiop", "zzzzzzzzzz"])
def test_common_passwords_are_refused_in_any_letter_case(password: str) -> None:
    assert DEFAULT_POLICY.violations(password) == ["is a commonly used password (block_common)"]


def test_the_defaults_have_no_composition_rules() -> None:
    assert DEFAULT_POLICY.violations("all lower case words") == []
    assert DEFAULT_POLICY.violations("q7w-zp4") == ["must be at least 8 characters (min_length)"]


@pytest.mark.parametrize(
    ("password", "context"),
    [
        ("jane.doe-2030!", ["Jane.Doe@example.com"]),
        ("x-MARGARET-x-9", ["someone@example.com", "Margaret", "Thatcher"]),
        ("globex rocks 99", ["someone@example.com", "", "", "Globex Corporation"]),
    ],
)
def test_passwords_built_from_context_words_are_refused(password: str, context: list[str]) -> None:
    assert DEFAULT_POLICY.violations(password, context) == [
        "must not contain your email address, your name or the organization's name (block_context)"
    ]


def test_short_context_words_are_ignored() -> None:
    assert context_words(["Al", "Bo@x.io", "Acme Co"]) == ["acme", "acme co", "bo@x.io"]
    assert DEFAULT_POLICY.violations("albatross coast", ["Al", "Co"]) == []


def test_an_organization_may_ask_for_more_and_every_broken_rule_is_named() -> None:
    policy = PasswordPolicy(
        min_length=12,
        require_uppercase=True,
        require_digit=True,
        require_symbol=True,
        min_character_classes=4,
        blocked_words=("acme",),
    )
    assert policy.violations("acmefriday") == [
        "must be at least 12 characters (min_length)",
        "must contain an uppercase letter (require_uppercase)",
        "must contain a digit (require_digit)",
        "must contain a symbol (require_symbol)",
        "must mix at least 4 of: lowercase letters, uppercase letters, digits, symbols (min_character_classes)",
        "must not contain 'acme' (blocked_words)",
    ]
    assert policy.violations("Nine+Ravens-Fly7") == []
    with pytest.raises(InvalidInput) as raised:
        policy.check("short", field="new_password")
    assert {error.field for error in raised.value.errors} == {"new_password"}


def test_the_combination_of_policies_is_at_least_as_strict_as_each() -> None:
    first = PasswordPolicy(min_length=10, max_length=64, require_digit=True, blocked_words=("acme",))
    second = PasswordPolicy(min_length=12, max_length=100, require_symbol=True, block_common=False)
    combined = first.combined(second)
    assert (combined.min_length, combined.max_length) == (12, 64)
    assert (combined.require_digit, combined.require_symbol, combined.block_common) == (True, True, True)
    assert combined.blocked_words == ("acme",)
    for password in ("acme-12345678", "password", "no digits here!", "Nine+Ravens-Fly7"):
        if not combined.violations(password):
            assert first.violations(password) == second.violations(password) == []


def test_an_update_keeps_what_it_leaves_out_and_refuses_a_contradiction() -> None:
    current = PasswordPolicy(min_length=10, require_digit=True)
    updated = PasswordPolicyUpdate(min_length=14, blocked_words=["Acme", "acme"]).applied_to(current)
    assert (updated.min_length, updated.require_digit, updated.blocked_words) == (14, True, ("acme",))
    with pytest.raises(InvalidInput) as raised:
        PasswordPolicyUpdate(min_length=40, max_length=20).applied_to(current)
    assert raised.value.errors[0].field == "password_policy.max_length"
