"""The versioned JSON API: ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``.

Routers are thin, one per domain; every endpoint resolves the school through
``classbook.access`` like the pages do.
"""

from __future__ import annotations

from classbook.api.auth import api_auth
from classbook.api.contract import ContractAPI, ContractParser
from classbook.api.errors import install_error_handlers
from classbook.api.ratelimit import CallerRateLimit, install_rate_limits
from classbook.api.routers import register_routers

api = ContractAPI(
    title="Classbook API",
    version="1",
    description="Electronic class journal and e-diary. Authenticate with a personal API token "
    "(`Authorization: Bearer cb_...`, created on your profile page) or the browser session.",
    auth=api_auth,
    urls_namespace="api-v1",
    parser=ContractParser(),
    throttle=CallerRateLimit(),  # per token / per session user (classbook/api/ratelimit.py)
)
install_error_handlers(api)
install_rate_limits(api)
register_routers(api)
