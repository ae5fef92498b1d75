"""Data keys: where they live, which one is active, and how a new one is added or an old one retired.

Two sources, never mixed:
- INTAKE_DATA_KEYS (or DATA_KEYS in output/config.py): "id:key,id:key,…", the first one active.
  The operator owns it; Intake never writes it. `flask new-data-key` prints a new entry.
- otherwise <instance>/data_keys, a JSON file generated once with mode 0600, like secret_key.
  `flask rotate-key` adds a key to it and `--retire` removes unused ones; every write is atomic.

A file-backed keyring notices when another process (rotate-key) changed the file: at the start of a
transaction (refresh(), at most once a second) and whenever a blob names a key it does not know yet.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .files import write_private

KEY_BYTES = 32  # AES-256
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
FILE_NAME = "data_keys"
REFRESH_EVERY = 1.0  # seconds between checks of the key file's mtime


class KeyringError(RuntimeError):
    """The keys are missing, malformed or cannot be changed this way; the message says what to do."""


class UnknownKeyError(KeyringError):
    """A blob names a key that this keyring does not hold."""


def new_key_id() -> str:
    return f"k{dt.date.today():%Y%m%d}-{secrets.token_hex(2)}"


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str, key_id: str = "?") -> bytes:
    try:
        key = base64.b64decode(text.strip().encode("ascii"), altchars=b"-_", validate=True)
    except (ValueError, UnicodeEncodeError):
        raise KeyringError(f"data key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"data key {key_id!r} must be {KEY_BYTES} bytes (it is {len(key)})")
    return key


def new_entry() -> str:
    """A new key as one INTAKE_DATA_KEYS entry: "id:base64"."""
    return f"{new_key_id()}:{encode_key(os.urandom(KEY_BYTES))}"


def parse_entries(text: str) -> tuple[dict[str, bytes], str]:
    """Parse "id:key,id:key" (commas or whitespace between entries); the first entry is active."""
    keys: dict[str, bytes] = {}
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        key_id, sep, material = entry.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise KeyringError("INTAKE_DATA_KEYS entries look like 'k20260101-ab12:BASE64KEY', separated by commas")
        if key_id in keys:
            raise KeyringError(f"INTAKE_DATA_KEYS names key {key_id!r} twice")
        keys[key_id] = decode_key(material, key_id)
    if not keys:
        raise KeyringError("INTAKE_DATA_KEYS is set but holds no key")
    return keys, next(iter(keys))


class Keyring:
    """The data keys of one app: one active key encrypts, every key decrypts."""

    def __init__(self, keys: dict[str, bytes], active: str, path: Path | None = None,
                 created: dict[str, str] | None = None) -> None:
        if active not in keys:
            raise KeyringError(f"the active key {active!r} is not in the keyring")
        self.path = path
        self._lock = threading.Lock()
        self._install(keys, active, created or {})
        self._mtime = path.stat().st_mtime_ns if path else None
        self._checked = time.monotonic()

    def _install(self, keys: dict[str, bytes], active: str, created: dict[str, str]) -> None:
        # Replaced whole, never mutated: a reader always sees one consistent keyring.
        self._keys = dict(keys)
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._created = dict(created)
        self.active_id = active

    # --- sources ---------------------------------------------------------------------------------------------

    @classmethod
    def from_entries(cls, text: str) -> Keyring:
        keys, active = parse_entries(text)
        return cls(keys, active)

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        keys, active, created = _read_file(path)
        return cls(keys, active, path=path, created=created)

    @property
    def source(self) -> str:
        return f"file {self.path}" if self.path else "environment (INTAKE_DATA_KEYS)"

    @property
    def writable(self) -> bool:
        return self.path is not None

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    def created(self, key_id: str) -> str:
        return self._created.get(key_id, "")

    # --- use -------------------------------------------------------------------------------------------------

    def aead(self, key_id: str) -> AESGCM:
        """The cipher for `key_id`; reread the key file once if another process added the key."""
        try:
            return self._aeads[key_id]
        except KeyError:
            pass
        if self.path:
            self._reload(keep_active=True)
            if key_id in self._aeads:
                return self._aeads[key_id]
        raise UnknownKeyError(f"data key {key_id!r} is not in the keyring ({self.source}); restore it from where "
                              "you keep copies of your keys, or the rows it encrypted cannot be read")

    def refresh(self, force: bool = False) -> None:
        """Pick up a key file changed by another process (called at the start of each transaction)."""
        if not self.path or (not force and time.monotonic() - self._checked < REFRESH_EVERY):
            return
        self._checked = time.monotonic()
        try:
            if self.path.stat().st_mtime_ns != self._mtime:
                self._reload(keep_active=False)
        except FileNotFoundError:
            return  # keep the keys we have; the next check tries again

    def _reload(self, keep_active: bool) -> None:
        with self._lock:
            mtime = self.path.stat().st_mtime_ns
            keys, active, created = _read_file(self.path)
            if keep_active and self.active_id in keys:
                # New keys only: the active key changes at a transaction's start (refresh), never in the middle.
                self._install(keys, self.active_id, created)
                return
            self._mtime = mtime
            self._install(keys, active, created)

    # --- changes (file only) ---------------------------------------------------------------------------------

    def add_key(self) -> str:
        """Generate a key, make it active, write the file atomically; return its id."""
        self._require_file("add a key")
        with self._lock:
            keys, _active, created = _read_file(self.path)
            key_id = new_key_id()
            while key_id in keys:
                key_id = new_key_id()
            keys = {key_id: os.urandom(KEY_BYTES), **keys}
            created[key_id] = _now()
            _write_file(self.path, keys, key_id, created)
        self._reload(keep_active=False)
        return key_id

    def remove_keys(self, key_ids: list[str]) -> None:
        """Drop keys that nothing uses any more (the caller checks that); never the active one."""
        self._require_file("retire keys")
        with self._lock:
            keys, active, created = _read_file(self.path)
            if active in key_ids:
                raise KeyringError("the active key cannot be retired")
            for key_id in key_ids:
                keys.pop(key_id, None)
                created.pop(key_id, None)
            _write_file(self.path, keys, active, created)
        self._reload(keep_active=False)

    def _require_file(self, what: str) -> None:
        if not self.path:
            raise KeyringError(
                f"cannot {what}: the keys come from INTAKE_DATA_KEYS, which only you can change. "
                "Run `flask --app app new-data-key`, put its output first in INTAKE_DATA_KEYS on every server "
                "(keep the old keys after it), restart them, then run `flask --app app rotate-key`."
            )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _read_file(path: Path) -> tuple[dict[str, bytes], str, dict[str, str]]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        entries = data["keys"]
        keys = {e["id"]: decode_key(e["key"], e["id"]) for e in entries}
        created = {e["id"]: e.get("created", "") for e in entries}
        return keys, data["active"], created
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyringError(f"cannot read the data key file {path}: {type(exc).__name__}. "
                           "Restore it from your copy of the keys.") from None


def _write_file(path: Path, keys: dict[str, bytes], active: str, created: dict[str, str]) -> None:
    entries = [{"id": key_id, "key": encode_key(key), "created": created.get(key_id, "")} for key_id, key in keys.items()]
    text = json.dumps({"format": 1, "active": active, "keys": entries}, indent=2) + "\n"
    write_private(path, text.encode("utf-8"))


def ensure_file(path: Path) -> None:
    """Create the key file with one key, once; a concurrent creator wins cleanly (link is atomic)."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return
    key_id = new_key_id()
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    _write_file(partial, {key_id: os.urandom(KEY_BYTES)}, key_id, {key_id: _now()})
    try:
        os.link(partial, path)  # fails if another process created it first: theirs is kept
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)


def load_for_app(app: Any) -> Keyring:
    """The app's keyring: DATA_KEYS from the config (INTAKE_DATA_KEYS), else the instance key file."""
    configured = app.config.pop("DATA_KEYS", None)  # never left lying in app.config
    if configured:
        return Keyring.from_entries(str(configured))
    path = Path(app.instance_path) / FILE_NAME
    ensure_file(path)
    return Keyring.from_file(path)
