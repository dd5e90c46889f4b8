"""Settings: file + environment, and the refusal to run production on placeholder secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ess.settings import DEFAULT_CONFIG, Secret, SettingsError, load_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
GOOD_SECRET = "k3Jx9-very-random-and-long-enough-secret-value-42"


def test_the_demo_defaults_load() -> None:
    settings = load_settings(DEFAULT_CONFIG, environ={})
    assert settings.mode == "demo"
    assert settings.server.port == 8000
    assert settings.database.url.startswith("sqlite+aiosqlite:///")
    assert settings.directory.kind == "local"
    assert settings.sessions.store == "file"
    assert settings.i18n.default_locale == "de"


def test_environment_variables_override_the_file() -> None:
    settings = load_settings(
        DEFAULT_CONFIG,
        environ={
            "ESS_PORT": "9123",
            "ESS_DATABASE_URL": "postgresql+asyncpg://ess@db/ess",
            "ESS_SECURITY__SESSION_IDLE_MINUTES": "5",
            "ESS_DIRECTORY__LOCAL__HASHING__MEMORY_KIB": "1024",
            "UNRELATED": "x",
        },
    )
    assert settings.server.port == 9123
    assert settings.database.url == "postgresql+asyncpg://ess@db/ess"
    assert settings.security.session_idle_minutes == 5
    assert settings.directory.local.hashing.memory_kib == 1024


@pytest.mark.parametrize(
    "secret", ["", "change-me", "CHANGEME", "demo-secret-not-for-production-0123456789abcdef", "short"]
)
def test_production_refuses_missing_or_placeholder_secrets(secret: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(DEFAULT_CONFIG, environ={"ESS_MODE": "production", "ESS_SECRET_KEY": secret})
    assert "ESS_SECRET_KEY" in str(caught.value)
    if secret:
        assert secret not in str(caught.value)  # the message never echoes the secret


def test_production_starts_with_a_real_secret_and_hides_it() -> None:
    settings = load_settings(DEFAULT_CONFIG, environ={"ESS_MODE": "production", "ESS_SECRET_KEY": GOOD_SECRET})
    assert settings.secret_key.reveal() == GOOD_SECRET
    assert GOOD_SECRET not in repr(settings)
    assert GOOD_SECRET not in repr(settings.secret_key)
    assert repr(Secret("x")) == "Secret('**********')"


def test_production_refuses_a_placeholder_database_password() -> None:
    with pytest.raises(SettingsError, match="ESS_DATABASE_URL"):
        load_settings(
            CONFIG_DIR / "production.example.toml",
            environ={"ESS_SECRET_KEY": GOOD_SECRET},
        )


@pytest.mark.parametrize("name", ["production.example.toml", "openldap.example.toml", "activedirectory.example.toml"])
def test_the_documented_examples_are_valid_once_secrets_are_set(name: str) -> None:
    settings = load_settings(
        CONFIG_DIR / name,
        environ={
            "ESS_SECRET_KEY": GOOD_SECRET,
            "ESS_DATABASE_URL": "postgresql+asyncpg://ess:s3cret@db/ess",
            "ESS_DIRECTORY__LDAP__BIND_PASSWORD": "service-account-password",
        },
    )
    assert settings.mode == "production"
    assert settings.server.served_over_tls


def test_ldap_examples_refuse_a_missing_bind_password() -> None:
    with pytest.raises(SettingsError, match="BIND_PASSWORD"):
        load_settings(
            CONFIG_DIR / "activedirectory.example.toml",
            environ={"ESS_SECRET_KEY": GOOD_SECRET, "ESS_DATABASE_URL": "postgresql+asyncpg://ess:pw@db/ess"},
        )


def test_unknown_keys_and_wrong_types_are_refused_with_the_file_named(tmp_path: Path) -> None:
    config = tmp_path / "ess.toml"
    config.write_text('mode = "demo"\n[server]\nprot = 8000\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(config, environ={})
    with pytest.raises(SettingsError, match="port"):
        load_settings(DEFAULT_CONFIG, environ={"ESS_PORT": "eighty"})


def test_a_missing_file_is_named() -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings("/nonexistent/ess.toml", environ={})


# --- server.base_url: the address mailed links point to -------------------------------------------------------------


def test_the_demo_mails_links_to_the_port_it_serves_on() -> None:
    assert load_settings(DEFAULT_CONFIG, environ={}).server.base_url == "http://127.0.0.1:8000"
    moved = load_settings(DEFAULT_CONFIG, environ={"ESS_PORT": "8080"})
    assert moved.server.port == 8080
    assert moved.server.base_url == "http://127.0.0.1:8080"
    assert load_settings(DEFAULT_CONFIG, environ={"ESS_HOST": "localhost"}).server.base_url == "http://localhost:8000"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123"),  # noqa: S104 - a listen address in a settings test, nothing binds
        ("::", "http://[::1]:8123"),
        ("::1", "http://[::1]:8123"),
        ("10.1.2.3", "http://10.1.2.3:8123"),
    ],
)
def test_a_derived_base_url_is_an_address_a_browser_can_open(host: str, expected: str) -> None:
    settings = load_settings(DEFAULT_CONFIG, environ={"ESS_HOST": host, "ESS_PORT": "8123"})
    assert settings.server.base_url == expected


def test_an_explicit_base_url_wins_over_host_and_port(tmp_path: Path) -> None:
    from_env = load_settings(DEFAULT_CONFIG, environ={"ESS_PORT": "8080", "ESS_BASE_URL": "https://ess.example.com"})
    assert from_env.server.base_url == "https://ess.example.com"
    assert from_env.server.port == 8080
    config = tmp_path / "ess.toml"
    config.write_text(
        'mode = "demo"\n[server]\nport = 9000\nbase_url = "https://intranet.example.com/ess"\n', encoding="utf-8"
    )
    from_file = load_settings(config, environ={"ESS_PORT": "8080", "ESS_SECRET_KEY": GOOD_SECRET})
    assert from_file.server.base_url == "https://intranet.example.com/ess"
    production = load_settings(
        CONFIG_DIR / "production.example.toml",
        environ={
            "ESS_SECRET_KEY": GOOD_SECRET,
            "ESS_DATABASE_URL": "postgresql+asyncpg://ess:s3cret@db/ess",
            "ESS_PORT": "8443",
        },
    )
    assert production.server.base_url == "https://ess.example.com"


REDIS_PASSWORD = "r3dis-Pass-word-not-a-placeholder"


def _production(**env: str) -> dict[str, str]:
    return {"ESS_MODE": "production", "ESS_SECRET_KEY": GOOD_SECRET, **env}


def test_the_redis_store_takes_a_url_and_hides_its_password() -> None:
    settings = load_settings(
        DEFAULT_CONFIG,
        environ=_production(
            ESS_SESSIONS__STORE="redis",
            ESS_SESSIONS__URL="rediss://valkey.internal:6380/0",
            ESS_SESSIONS__PASSWORD=REDIS_PASSWORD,
            ESS_SESSIONS__CA_FILE="/etc/ess/valkey-ca.pem",
            ESS_SERVER__WORKERS="4",
        ),
    )
    assert settings.sessions.store == "redis"
    assert settings.server.workers == 4
    assert REDIS_PASSWORD not in repr(settings)
    assert "rediss://valkey.internal:6380/0" in repr(settings)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"ESS_SESSIONS__STORE": "redis"}, "sessions.url must be a redis://"),
        ({"ESS_SESSIONS__STORE": "redis", "ESS_SESSIONS__URL": "http://x"}, "sessions.url must be a redis://"),
        (
            {"ESS_SESSIONS__STORE": "redis", "ESS_SESSIONS__URL": f"redis://:{REDIS_PASSWORD}@r:6379/0"},
            "must not carry credentials",
        ),
        (
            {"ESS_SESSIONS__STORE": "redis", "ESS_SESSIONS__URL": "redis://r/0", "ESS_SESSIONS__PASSWORD": "change-me"},
            "sessions.password",
        ),
        (
            {"ESS_SESSIONS__STORE": "redis", "ESS_SESSIONS__URL": "redis://r/0", "ESS_SESSIONS__CA_FILE": "/ca.pem"},
            "need a rediss:// URL",
        ),
        ({"ESS_SERVER__WORKERS": "2"}, 'needs sessions.store = "redis"'),
        ({"ESS_SERVER__WORKERS": "0"}, "server.workers must be 1 or more"),
    ],
)
def test_shared_state_settings_that_cannot_work_are_refused(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(DEFAULT_CONFIG, environ=_production(**env))
    assert complaint in str(caught.value)
    assert REDIS_PASSWORD not in str(caught.value)


def test_single_sign_on_is_off_unless_configured_and_checked_when_it_is() -> None:
    base = {"ESS_MODE": "production", "ESS_SECRET_KEY": GOOD_SECRET}
    settings = load_settings(DEFAULT_CONFIG, environ=base)
    assert not settings.sso.oidc.enabled
    assert not settings.sso.kerberos.enabled

    oidc = {
        "ESS_SSO__OIDC__ISSUER": "https://login.example.com/realms/company",
        "ESS_SSO__OIDC__CLIENT_ID": "ess",
        "ESS_SSO__OIDC__CLIENT_SECRET": "client-secret-of-the-provider-42",
        "ESS_SSO__SSO_ONLY_ROLES": '["hr"]',
    }
    settings = load_settings(DEFAULT_CONFIG, environ={**base, **oidc})
    assert settings.sso.oidc.enabled
    assert "client-secret-of-the-provider-42" not in repr(settings)

    for broken, message in (
        ({"ESS_SSO__OIDC__ISSUER": "http://login.example.com"}, "must use https"),
        ({"ESS_SSO__OIDC__CLIENT_SECRET": ""}, "client_secret"),
        ({"ESS_SSO__OIDC__SCOPES": '["profile"]'}, '"openid"'),
        ({"ESS_SSO__SSO_ONLY_ROLES": '["boss"]'}, "unknown role 'boss'"),
    ):
        with pytest.raises(SettingsError, match=message):
            load_settings(DEFAULT_CONFIG, environ={**base, **oidc, **broken})
