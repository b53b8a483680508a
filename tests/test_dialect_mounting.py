"""TENANTRY_DIALECTS: which vendor dialects are served, and where."""

import pytest

from tenantry import dialects


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialects, "REGISTRY", {"alpha": "x.alpha", "beta": "x.beta"})


@pytest.mark.usefixtures("registry")
def test_every_registered_dialect_is_served_by_default() -> None:
    assert dialects.enabled(None) == {"alpha": "/compat/alpha", "beta": "/compat/beta"}


@pytest.mark.usefixtures("registry")
def test_names_and_prefixes_are_chosen_by_the_setting() -> None:
    assert dialects.enabled("beta") == {"beta": "/compat/beta"}
    assert dialects.enabled(" alpha=/vendor/a/ , beta ") == {"alpha": "/vendor/a", "beta": "/compat/beta"}
    assert dialects.enabled("") == {}


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("spec", ["gamma", "alpha=relative", "alpha=/same,beta=/same"])
def test_bad_settings_fail_clearly(spec: str) -> None:
    with pytest.raises(ValueError, match="dialect"):
        dialects.enabled(spec)
