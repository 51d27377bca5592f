"""Rescue Ledger: the application factory."""

from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from config import Config, config_from_env

BASE_DIR = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and CLI."""
    config_class = config_class or config_from_env()
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config_class)
    config_class.init_app(app)
    # An id past the database's 64-bit integers is a 404, not an overflow (every <int:...> in a URL).
    app.url_map.converters["int"] = BoundedIntConverter

    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_cli(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """<int:...> that matches only ids a BIGINT column can hold."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 - every mapped class must be known before use
    from app.auth.setup import init_auth
    from app.common.i18n import select_locale, select_timezone
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        connect_args = dict(options.get("connect_args", {}))
        connect_args.setdefault("timeout", app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    init_auth(app)


def register_blueprints(app: Flask) -> None:
    from app.admin.views import bp as admin_bp
    from app.alerts.views import bp as alerts_bp
    from app.animals.views import bp as animals_bp
    from app.api import init_api
    from app.auth.views import bp as auth_bp
    from app.care.receivers import connect_receivers
    from app.care.views import bp as care_bp
    from app.core.views import bp as core_bp
    from app.reference.views import bp as reference_bp
    from app.releases.receivers import connect_receivers as connect_release_receivers
    from app.releases.views import bp as releases_bp
    from app.vet.receivers import connect_receivers as connect_vet_receivers
    from app.vet.views import bp as vet_bp

    for blueprint in (core_bp, auth_bp, reference_bp, animals_bp, care_bp, vet_bp, releases_bp, alerts_bp, admin_bp):
        app.register_blueprint(blueprint)
    connect_receivers()
    connect_vet_receivers()
    connect_release_receivers()
    init_api(app)


def register_errors(app: Flask) -> None:
    from app.common.errors import init_errors

    init_errors(app)


def register_request_hooks(app: Flask) -> None:
    from app.common.security import init_security

    init_security(app)


def register_template_helpers(app: Flask) -> None:
    from app.common.filters import init_filters

    init_filters(app)


def register_cli(app: Flask) -> None:
    from app.cli import init_cli

    init_cli(app)
