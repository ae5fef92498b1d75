"""face map: drafts' concern_areas become a zone map

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-25 18:00:00

Data only, no schema change. Questionnaire 2026.12.2 replaces the list of 11 concern areas with the face
map (zone -> concerns). Every draft whose concern_areas is still a list is rewritten through
intake.zonemap.upgrade_answers: decrypted and sealed again with the app's keys (intake.crypto.blob), which
intake.cli.upgrade_database hands over (`flask init-db` does). Without keys (a bare `alembic upgrade`),
plaintext legacy rows are still upgraded and sealed rows are left for the read-time mapping. Running it
again changes nothing: a zone map is a dict, never a list.

Submissions are NOT rewritten: each is sealed (the SHA-256 of its answers is in its row, its audit event and
its PDF), so a rewrite would read as tampering. They keep the answers the patient sent; the summary, the
exports and the forms map an old list on read with the same function (intake.zonemap.current).
"""

import json

import sqlalchemy as sa
from alembic import op

from intake.crypto import blob
from intake.crypto.types import DIALECT_ATTRIBUTE
from intake.zonemap import upgrade_answers

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

CONTEXT = "drafts.answers"


def upgrade_drafts(bind, keyring) -> dict[str, int]:
    """Upgrade every draft's concern_areas; returns counts (upgraded, sealed_skipped)."""
    counts = {"upgraded": 0, "sealed_skipped": 0}
    rows = bind.execute(sa.text("SELECT id, answers FROM drafts WHERE answers IS NOT NULL")).all()
    for row_id, raw in rows:
        raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        if blob.is_sealed(raw):
            if keyring is None:
                counts["sealed_skipped"] += 1
                continue
            answers = json.loads(blob.open_blob(keyring, raw, CONTEXT))
        else:
            answers = json.loads(raw)
        upgraded = upgrade_answers(answers)
        if upgraded is None:
            continue
        data = json.dumps(upgraded, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if keyring is not None:
            bind.execute(sa.text("UPDATE drafts SET answers = :answers, key_id = :key_id WHERE id = :id"),
                         {"answers": blob.seal(keyring, data, CONTEXT), "key_id": keyring.active_id, "id": row_id})
        else:  # stays plaintext, as it was; init-db seals it
            bind.execute(sa.text("UPDATE drafts SET answers = :answers WHERE id = :id"), {"answers": data, "id": row_id})
        counts["upgraded"] += 1
    return counts


def upgrade() -> None:
    bind = op.get_bind()
    counts = upgrade_drafts(bind, getattr(bind.dialect, DIALECT_ATTRIBUTE, None))
    if counts["sealed_skipped"]:
        print(f"0011: {counts['sealed_skipped']} encrypted draft(s) left as they are (no data keys given); "
              "they are read through the same mapping and rewritten when the patient next saves the page.")


def downgrade() -> None:
    # Data only. A zone map cannot become the old, coarser list without losing what the patient marked.
    pass
