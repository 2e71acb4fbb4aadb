"""HTTP API (FastAPI): thin routers over the capability libraries."""

from rempart.api.app import API_PREFIX, create_app
from rempart.api.context import AppContext

__all__ = ["API_PREFIX", "AppContext", "create_app"]
