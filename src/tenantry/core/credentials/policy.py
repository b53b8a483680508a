"""Password rules an organization applies, stored in its settings; NIST SP 800-63B by default.

The defaults: 8 to 128 characters, no composition rules, not a commonly used password, and not built from
the account's email or names or the organization's name. An organization may ask for more (longer,
character classes, words of its own) with ``PATCH /api/v1/orgs/{org}`` ``password_policy``. Where no
organization is in the path (a user changing their own password) the strictest combination of the
policies of the user's organizations applies.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.blocklist import is_common
from tenantry.core.memberships.models import Membership
from tenantry.core.orgs.models import Organization, live_org
from tenantry.errors import FieldError, InvalidInput
from tenantry.i18n import N_, _, ngettext

SETTINGS_KEY = "password_policy"
_CONTEXT_MIN_LENGTH = 4
_CLASSES = ("lowercase letters", "uppercase letters", "digits", "symbols")


def _classes_in(password: str) -> list[bool]:
    return [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ]


PLAIN_RULES = {
    "min_length": N_("Use at least %(value)s characters."),
    "max_length": N_("Use at most %(value)s characters."),
    "require_lowercase": N_("Include a lowercase letter."),
    "require_uppercase": N_("Include an uppercase letter."),
    "require_digit": N_("Include a digit."),
    "require_symbol": N_("Include a symbol, such as ! or #."),
    "min_character_classes": N_(
        "Mix at least %(value)s kinds of characters among lowercase letters, uppercase letters, digits and symbols."
    ),
    "block_common": N_("This password is too common: it is among the first ones attackers try. Choose another."),
    "block_context": N_("Do not use your email address, your name or the organization's name in it."),
    "blocked_words": N_("Do not use “%(value)s”: the organization does not allow it in passwords."),
    "same_as_current": N_("Choose a password different from your current one."),
    "incorrect_current_password": N_("Your current password is not correct."),
}
"""Each rule's code in plain words for the people choosing a password (the API returns the code itself)."""


def plain_words(error: FieldError) -> str:
    """What a hosted page tells the user about a password error: the rule in plain words in their language,
    never its code (a message without a code is shown as the catalog translates it)."""
    if error.code is None or error.code not in PLAIN_RULES:
        text = _(error.message)
        return text[:1].upper() + text[1:]
    return _(PLAIN_RULES[error.code]) % dict(error.params)


def context_words(values: Iterable[str]) -> list[str]:
    """The words a password must not contain: each value whole and its alphanumeric pieces (4+ characters)."""
    words: set[str] = set()
    for value in values:
        lowered = value.strip().lower()
        if "@" in lowered:
            words.add(lowered)
            lowered = lowered.split("@", 1)[0]
        words.add(lowered)
        words.update(re.split(r"[^\w]+|_", lowered))
    return sorted(word for word in words if len(word) >= _CONTEXT_MIN_LENGTH)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128
    require_lowercase: bool = False
    require_uppercase: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    min_character_classes: int = 0
    block_common: bool = True
    block_context: bool = True
    blocked_words: tuple[str, ...] = ()

    def violations(self, password: str, context: Sequence[str] = ()) -> list[str]:
        """Every rule ``password`` breaks, for developers; ``context`` holds what it must not contain (email,
        names, org name)."""
        return [error.message for error in self.broken_rules(password, context)]

    def broken_rules(self, password: str, context: Sequence[str] = (), field: str = "password") -> list[FieldError]:
        """Every rule ``password`` breaks: its message for developers and its ``code`` (the rule's name)."""
        broken: list[tuple[str, str, str | int]] = []
        if len(password) < self.min_length:
            broken.append((f"must be at least {self.min_length} characters", "min_length", self.min_length))
        if len(password) > self.max_length:
            broken.append((f"must be at most {self.max_length} characters", "max_length", self.max_length))
        lower, upper, digit, symbol = present = _classes_in(password)
        for wanted, found, rule, text in (
            (self.require_lowercase, lower, "require_lowercase", "a lowercase letter"),
            (self.require_uppercase, upper, "require_uppercase", "an uppercase letter"),
            (self.require_digit, digit, "require_digit", "a digit"),
            (self.require_symbol, symbol, "require_symbol", "a symbol"),
        ):
            if wanted and not found:
                broken.append((f"must contain {text}", rule, ""))
        if sum(present) < self.min_character_classes:
            kinds = ", ".join(_CLASSES)
            count = self.min_character_classes
            broken.append((f"must mix at least {count} of: {kinds}", "min_character_classes", count))
        lowered = password.lower()
        if self.block_common and (is_common(lowered) or len(set(lowered)) == 1):
            broken.append(("is a commonly used password", "block_common", ""))
        if self.block_context and any(word in lowered for word in context_words(context)):
            text = "must not contain your email address, your name or the organization's name"
            broken.append((text, "block_context", ""))
        broken.extend(
            (f"must not contain {word!r}", "blocked_words", word)
            for word in self.blocked_words
            if word.lower() in lowered
        )
        return [
            FieldError(field, f"{text} ({code})", code=code, params=(("value", value),) if value != "" else ())
            for text, code, value in broken
        ]

    def described(self) -> str:
        """The rules in plain words, in the language of the page, for the hint beside a new-password field."""
        if self.max_length < 128:
            length = _("%(min)s to %(max)s characters.") % {"min": self.min_length, "max": self.max_length}
        else:
            length = ngettext("At least %(count)s character.", "At least %(count)s characters.", self.min_length) % {
                "count": self.min_length
            }
        sentences = [length]
        sentences += [
            _(PLAIN_RULES[rule])
            for wanted, rule in (
                (self.require_lowercase, "require_lowercase"),
                (self.require_uppercase, "require_uppercase"),
                (self.require_digit, "require_digit"),
                (self.require_symbol, "require_symbol"),
            )
            if wanted
        ]
        if self.min_character_classes:
            sentences.append(_(PLAIN_RULES["min_character_classes"]) % {"value": self.min_character_classes})
        if self.block_common:
            sentences.append(_("Not a commonly used password."))
        if self.block_context:
            sentences.append(_("Without your email address, your name or the organization's name."))
        if self.blocked_words:
            sentences.append(_("Without the words the organization has blocked."))
        return " ".join(sentences)

    def check(self, password: str, *, field: str = "password", context: Sequence[str] = ()) -> None:
        """Raise InvalidInput naming every rule ``password`` breaks."""
        broken = self.broken_rules(password, context, field)
        if broken:
            raise InvalidInput(broken)

    def as_settings(self) -> dict[str, Any]:
        return {
            field.name: list(value) if isinstance(value := getattr(self, field.name), tuple) else value
            for field in fields(self)
        }

    @classmethod
    def from_settings(cls, stored: dict[str, Any]) -> "PasswordPolicy":
        known = {field.name for field in fields(cls)}
        values = {name: value for name, value in stored.items() if name in known}
        if "blocked_words" in values:
            values["blocked_words"] = tuple(values["blocked_words"])
        return cls(**values)

    def combined(self, other: "PasswordPolicy") -> "PasswordPolicy":
        """A policy at least as strict as both: a password it accepts, each of them accepts (unless their
        lengths contradict each other, where the longer minimum wins)."""
        min_length = max(self.min_length, other.min_length)
        return PasswordPolicy(
            min_length=min_length,
            max_length=max(min_length, min(self.max_length, other.max_length)),
            require_lowercase=self.require_lowercase or other.require_lowercase,
            require_uppercase=self.require_uppercase or other.require_uppercase,
            require_digit=self.require_digit or other.require_digit,
            require_symbol=self.require_symbol or other.require_symbol,
            min_character_classes=max(self.min_character_classes, other.min_character_classes),
            block_common=self.block_common or other.block_common,
            block_context=self.block_context or other.block_context,
            blocked_words=tuple(sorted(set(self.blocked_words) | set(other.blocked_words))),
        )


DEFAULT_POLICY = PasswordPolicy()


def policy_from_settings(settings: dict[str, Any] | None) -> PasswordPolicy:
    stored = (settings or {}).get(SETTINGS_KEY)
    return PasswordPolicy.from_settings(stored) if isinstance(stored, dict) else DEFAULT_POLICY


def with_policy(settings: dict[str, Any] | None, policy: PasswordPolicy | None) -> dict[str, Any]:
    """Organization settings holding ``policy`` (None: back to the defaults)."""
    updated = {key: value for key, value in (settings or {}).items() if key != SETTINGS_KEY}
    if policy is not None:
        updated[SETTINGS_KEY] = policy.as_settings()
    return updated


def policy_for(org: Organization | None) -> PasswordPolicy:
    """The rules for passwords set in ``org`` (the defaults outside any organization)."""
    return DEFAULT_POLICY if org is None else policy_from_settings(org.settings)


async def password_hint(session: AsyncSession, user_id: str) -> str:
    """The rules the user's next password must follow, in plain words (their organizations' policies combined)."""
    return (await policy_for_user(session, user_id)).policy.described()


@dataclass(frozen=True)
class UserPolicy:
    """The policy for a user's own password and the organization names it must not contain."""

    policy: PasswordPolicy
    org_names: list[str]


async def policy_for_user(session: AsyncSession, user_id: str) -> UserPolicy:
    """The strictest combination of the policies of every organization the user belongs to."""
    orgs = list(
        await session.scalars(
            select(Organization)
            .join(Membership, Membership.org_id == Organization.id)
            .where(
                Membership.user_id == user_id,
                Membership.consent_pending.is_(False),  # an invitation imposes no rules before it is accepted
                live_org(),
            )
            .order_by(Organization.id)
        )
    )
    policies = [policy_for(org) for org in orgs] or [DEFAULT_POLICY]
    policy = policies[0]
    for other in policies[1:]:
        policy = policy.combined(other)
    return UserPolicy(policy, [name for org in orgs for name in (org.name, org.slug)])
