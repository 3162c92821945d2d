"""Configuration is layered: defaults, then instance/config.py, then CONSULT_* variables."""

from consult import create_app


def test_layering(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'from-instance'\nCITY_NAME = 'Wuppertal'\nCONTACT_EMAIL = 'a@wuppertal.example'\n"
    )
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CONSULT_CONTACT_EMAIL", "b@wuppertal.example")
    monkeypatch.setenv("CONSULT_LOGIN_FAILURES_PER_ACCOUNT", "7")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-instance"  # instance file
    assert app.config["CITY_NAME"] == "Wuppertal"  # instance file over default
    assert app.config["CONTACT_EMAIL"] == "b@wuppertal.example"  # environment over file
    assert app.config["LOGIN_FAILURES_PER_ACCOUNT"] == 7  # environment values are parsed
    assert app.config["BABEL_DEFAULT_LOCALE"] == "de"  # default
    # The embedded default: SQLite in the instance folder, mail to files there.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/consult.sqlite"
    assert app.config["MAIL_DIR"] == str(tmp_path / "mail")
    assert app.config["REDIS_URL"] is None


def test_postgres_urls_use_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "postgres://u@db/consult"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/consult"


def test_migrations_do_not_run_in_create_app(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    create_app({"SECRET_KEY": "x"})
    assert (
        not (tmp_path / "consult.sqlite").exists()
        or (tmp_path / "consult.sqlite").stat().st_size == 0
    )


def test_open_data_licence_from_the_environment_is_json(tmp_path, monkeypatch):
    import pytest

    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(
        "CONSULT_OPEN_DATA_LICENCE",
        '{"id": "cc-by-4.0", "name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}',
    )
    assert create_app({"SECRET_KEY": "x"}).config["OPEN_DATA_LICENCE"]["id"] == "cc-by-4.0"
    # A plain string would make every download fail later: refuse it at start instead.
    monkeypatch.setenv("CONSULT_OPEN_DATA_LICENCE", "CC BY 4.0")
    with pytest.raises(RuntimeError, match="OPEN_DATA_LICENCE"):
        create_app({"SECRET_KEY": "x"})
