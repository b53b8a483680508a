"""Field rules shared by every schema."""

import pytest
from hypothesis import given as given_examples
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tenantry.core.fields import ATTRIBUTES_MAX_BYTES, Attributes, Email, Name, Slug, _checked, _email, storable, within
from tenantry.core.users.schemas import Password


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate"])
def test_text_postgresql_cannot_store_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must"):
        storable(text)


def test_ordinary_unicode_is_storable() -> None:
    assert storable("Zoë 李 🚀") == "Zoë 李 🚀"


@pytest.mark.parametrize("slug", ["ab", "acme-2", "a" * 100])
def test_valid_slugs(slug: str) -> None:
    assert TypeAdapter(Slug).validate_python(slug) == slug


@pytest.mark.parametrize("slug", ["a", "Acme", "a_b", "a b", "a" * 101, "6b02820ea6f262672ab74e35"])
def test_invalid_slugs(slug: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Slug).validate_python(slug)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Jane@Example.COM", "Jane@example.com"),
        ("ops@corp.internal", "ops@corp.internal"),
        ("qa@acme.test", "qa@acme.test"),
        ("test.user@okta.local", "test.user@okta.local"),
        ("zoë@bücher.de", "zoë@bücher.de"),
    ],
)
def test_emails_are_normalized_and_internal_domains_accepted(given: str, stored: str) -> None:
    assert TypeAdapter(Email).validate_python(given) == stored


@pytest.mark.parametrize("email", ["plain", "a@", "@b.co", "a@b@c.co", "a b@c.co"])
def test_invalid_emails(email: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(email)


def _verdict(check: object, address: str) -> str:
    try:
        return str(check(address))  # type: ignore[operator]
    except ValueError:
        return "refused"


_LOCAL_CHARS = st.sampled_from([*list("aZ09.-_+!#$%&'*/=?^`{|}~ \"@é"), "..", "."])
_ADDRESSES = st.one_of(
    st.emails(),
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.lists(_LOCAL_CHARS, min_size=0, max_size=70).map("".join),
        st.sampled_from(
            [
                "Example.COM",
                "b.co",
                "x",
                "-a.com",
                "a..b",
                "localhost",
                "corp.local",
                "bücher.de",
                "a.invalid",
                "1.2.3.4",
                "[1.2.3.4]",
                "x" * 64 + ".com",
                ("y" * 60 + ".") * 4 + "com",
            ]
        ),
    ),
)


@settings(max_examples=400, deadline=None)
@given_examples(_ADDRESSES)
def test_the_fast_path_decides_every_address_as_the_validator_does(address: str) -> None:
    assert _verdict(_email, address) == _verdict(_checked, address)


def test_attributes_are_bounded_json() -> None:
    adapter = TypeAdapter(Attributes)
    assert adapter.validate_python({"a": [1, 2.5, None, {"b": "c"}]}) == {"a": [1, 2.5, None, {"b": "c"}]}
    with pytest.raises(ValidationError, match="bytes"):
        adapter.validate_python({"big": "x" * ATTRIBUTES_MAX_BYTES})
    with pytest.raises(ValidationError, match="NUL"):
        adapter.validate_python({"nested": {"k\x00": 1}})
    with pytest.raises(ValidationError, match="finite"):
        adapter.validate_python({"n": float("nan")})


def test_narrower_limits_count_characters_and_keep_the_types_rules() -> None:
    vendor_name = TypeAdapter(within(Name, min_length=2, max_length=40))
    for text, error in (("N", "at least 2 characters"), ("N" * 41, "at most 40 characters"), ("N\x00", "NUL")):
        with pytest.raises(ValidationError, match=error):
            vendor_name.validate_python(text)
    with pytest.raises(ValidationError, match="at most 200 characters"):
        TypeAdapter(within(Name, min_length=2)).validate_python("N" * 201)
    assert TypeAdapter(within(Email, max_length=319)).validate_python("Ada@Example.COM") == "Ada@example.com"


@pytest.mark.parametrize(
    ("kind", "limits"),
    [(Name, {"max_length": 201}), (Password, {"max_length": 2000}), (Password, {"min_length": 0, "max_length": 64})],
)
def test_limits_wider_than_the_types_own_are_refused(kind: object, limits: dict[str, int]) -> None:
    """A type's own limits (Name: at most 200; Password: 1 to 1024) cannot be loosened this way."""
    with pytest.raises(ValueError, match="wider"):
        within(kind, **limits)
