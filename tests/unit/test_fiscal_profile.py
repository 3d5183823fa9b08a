"""The fiscal profile's start-up rule: ``lv`` will not run without the seller's identity."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import minipos
from minipos.bootstrap import StartError, check_start
from minipos.cli import app as cli_app
from minipos.config import ConfigError, Settings
from minipos.domain.fiscal import FISCAL_CORE_VERSION, FiscalProfile, missing_seller_identity
from minipos.print_jobs.settings import PrintSettings

IDENTITY = {
    "MINIPOS_SHOP_NAME": "DEMO SIA",
    "MINIPOS_SHOP_REGISTRATION_NUMBER": "40000000000",
    "MINIPOS_SHOP_VAT_NUMBER": "LV40000000000",
    "MINIPOS_SHOP_ADDRESS": "Demo iela 1, Rīga",
}


@pytest.mark.parametrize("missing", list(IDENTITY))
def test_lv_names_the_missing_variable(missing: str) -> None:
    env = {name: value for name, value in IDENTITY.items() if name != missing}
    settings = PrintSettings.from_env(env)
    assert settings.fiscal_profile is FiscalProfile.LV  # the default
    with pytest.raises(ConfigError, match=missing):
        settings.check_fiscal()


def test_blank_address_lines_are_missing() -> None:
    env = IDENTITY | {"MINIPOS_SHOP_ADDRESS": " | "}
    with pytest.raises(ConfigError, match="MINIPOS_SHOP_ADDRESS"):
        PrintSettings.from_env(env).check_fiscal()


def test_a_complete_identity_starts() -> None:
    PrintSettings.from_env(IDENTITY).check_fiscal()


def test_generic_needs_no_identity() -> None:
    PrintSettings.from_env({"MINIPOS_FISCAL_PROFILE": "generic"}).check_fiscal()
    assert missing_seller_identity(FiscalProfile.GENERIC, {}) is None


def test_bad_profile_and_limit_name_their_variable() -> None:
    with pytest.raises(ConfigError, match="MINIPOS_FISCAL_PROFILE"):
        PrintSettings.from_env({"MINIPOS_FISCAL_PROFILE": "ee"})
    with pytest.raises(ConfigError, match="MINIPOS_SUPPORTING_DOCUMENT_LIMIT"):
        PrintSettings.from_env({"MINIPOS_SUPPORTING_DOCUMENT_LIMIT": "-1"})


def test_the_fiscal_core_has_its_own_version() -> None:
    assert FISCAL_CORE_VERSION.startswith("lv-")


def test_serve_refuses_to_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MINIPOS_SHOP_VAT_NUMBER")
    monkeypatch.delenv("MINIPOS_FISCAL_PROFILE", raising=False)
    with pytest.raises(StartError, match="MINIPOS_SHOP_VAT_NUMBER is not set"):
        check_start(Settings(secret_key="x", database_url="sqlite:////nonexistent/x.sqlite3"))


def test_minipos_version_names_the_fiscal_core() -> None:
    result = CliRunner().invoke(cli_app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"minipos {minipos.__version__}, fiscal core {FISCAL_CORE_VERSION}\n"
