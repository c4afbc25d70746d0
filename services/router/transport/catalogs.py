"""Service catalogs built from the descriptors each provider registered, cached per provider."""

from __future__ import annotations

import threading
from collections.abc import Callable

from router.service.descriptors import MethodInfo, ServiceCatalog
from router.service.model import ConfigSnapshot, ServiceProvider


class CatalogCache:
    """Builds a provider's catalog once per registered descriptor set."""

    def __init__(self, config: Callable[[], ConfigSnapshot]) -> None:
        self._config = config
        self._catalogs: dict[tuple[str, str, int], ServiceCatalog] = {}
        self._lock = threading.Lock()

    def catalog(self, provider: ServiceProvider) -> ServiceCatalog:
        key = (provider.service, provider.provider, hash(provider.files))
        catalog = self._catalogs.get(key)
        if catalog is None:
            with self._lock:
                catalog = self._catalogs.get(key)
                if catalog is None:
                    catalog = ServiceCatalog.from_files(provider.files)
                    self._catalogs[key] = catalog
        return catalog

    def method(self, provider: ServiceProvider, path: str) -> MethodInfo | None:
        return self.catalog(provider).method(path)

    def server_streaming(self, path: str) -> bool | None:
        """Whether a routed method streams its replies (None when no provider offers it)."""
        service = path[1:].partition("/")[0]
        for provider in self._config().providers.get(service, []):
            method = self.method(provider, path)
            if method is not None:
                return method.server_streaming
        return None
