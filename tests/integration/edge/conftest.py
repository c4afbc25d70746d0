"""The edge tests run Envoy in front of the router tests' network (registry, router, holder)."""

from tests.integration.router.conftest import network  # noqa: F401 - the shared fixture
