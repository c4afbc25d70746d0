"""The TTP's keys: one file per key in `TTP_KEY_DIR` (`var/ttp/keys/<name>.key`), 32 random bytes
(`secrets.token_bytes`), created on first use with mode 600 in a folder of mode 700. Never in the
warehouse's configuration or database: only this process reads them. A key is never replaced (a
person keeps their code); a file that is not 32 bytes stops the extraction (FAILED_PRECONDITION
`KEY_FILE_INVALID`) rather than coding with something else.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from pathlib import Path

from runtime.errors import FailedPrecondition

KEY_BYTES = 32
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}$", re.ASCII)


class FileKeyStore:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """The folder exists (created if need be) and is writable."""
        try:
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            return False
        return os.access(self._dir, os.W_OK | os.X_OK)

    def key(self, name: str) -> bytes:
        if not _NAME.match(name):
            raise ValueError(f"not a key name: {name!r}")
        with self._lock:
            if name not in self._cache:
                self._cache[name] = self._load_or_create(name)
            return self._cache[name]

    def _load_or_create(self, name: str) -> bytes:
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._dir / f"{name}.key"
        if not path.exists():
            # Written whole to a private temporary file, then linked into place: a crash never
            # leaves a short key, and of two creators the first link wins, the other reads it.
            tmp = self._dir / f".{name}.{secrets.token_hex(8)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(secrets.token_bytes(KEY_BYTES))
                    out.flush()
                    os.fsync(out.fileno())
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    pass
            finally:
                tmp.unlink(missing_ok=True)
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise FailedPrecondition(
                "KEY_FILE_INVALID", "a key file of the TTP is damaged", metadata={"key": name}
            )
        return key
