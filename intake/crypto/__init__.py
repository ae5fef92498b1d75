"""Encryption at rest: data keys, sealed blobs and files, encrypted column types, key rotation.

Owns:
- keys.py      the keyring: data keys from INTAKE_DATA_KEYS or <instance>/data_keys (0600), one active;
- blob.py      the sealed-value format (AES-256-GCM, key id in the header, bound to its table.column);
- types.py     EncryptedJSON / EncryptedText / EncryptedBytes column types, the key_id column and the
               ORM hook that keeps a row's key_id equal to the key of all its blobs;
- files.py     sealed files in chunks (PDF cache, exports, backups) and private (0600) file writing;
- rotation.py  re-encrypting rows and files with the active key, in batches, resumable; retiring keys;
- cli.py       new-data-key, rotate-key, key-status, decrypt-file.

May import: the standard library, cryptography, SQLAlchemy, click and Flask. keys, blob, types and files
import nothing from intake (models.py imports types); rotation may import intake.store and intake.models,
and cli also intake.db and intake.audit.

Each app has its own keyring, attached to its engine's dialect (attach()); nothing is process-global,
so two apps in one process never share or mix keys.
"""

from __future__ import annotations

from .blob import is_sealed, open_blob, seal
from .keys import Keyring, KeyringError, UnknownKeyError
from .types import EncryptedBytes, EncryptedJSON, EncryptedRow, EncryptedText, attach, keyring_of

__all__ = [
    "EncryptedBytes", "EncryptedJSON", "EncryptedRow", "EncryptedText", "Keyring", "KeyringError", "UnknownKeyError",
    "attach", "init_app", "is_sealed", "keyring_of", "open_blob", "seal",
]


def init_app(app) -> None:
    """Load the app's keyring (generating the key file once) and register the key commands."""
    from . import cli
    from .keys import load_for_app

    app.extensions["intake.keyring"] = load_for_app(app)
    cli.init_app(app)
