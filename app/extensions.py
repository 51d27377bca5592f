"""Flask extensions, created unbound so that create_app() can bind them to any app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.common.db import Base

db = SQLAlchemy(
    model_class=Base,
    # Tests bind the session to a connection inside an outer transaction; this makes
    # commits in the code under test release savepoints instead of ending that transaction.
    session_options={"join_transaction_mode": "create_savepoint"},
)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
