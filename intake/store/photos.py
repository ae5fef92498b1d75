"""Photos (issue 13): a draft's while the form is filled in, the submission's once it is sent.

The only module that reads or writes the photos table. Photo bytes are a deferred column:
listing photos never loads them; data() reads one.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, undefer

from ..models import Draft, Photo, utcnow
from . import Store


def for_draft(store: Store, draft_id: int) -> list[Photo]:
    with store.reading() as session:
        return list(session.scalars(select(Photo).where(Photo.draft_id == draft_id).order_by(Photo.position, Photo.id)))


def count_for_draft(store: Store, draft_id: int) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(Photo).where(Photo.draft_id == draft_id))


def for_submission(store: Store, submission_id: str, *, with_data: bool = False) -> list[Photo]:
    query = select(Photo).where(Photo.submission_id == submission_id).order_by(Photo.position, Photo.id)
    if with_data:
        query = query.options(undefer(Photo.data))
    with store.reading() as session:
        return list(session.scalars(query))


def any_submitted(store: Store) -> bool:
    """Whether any submission has a photo at all (exports skip the per-row look-up when none has)."""
    with store.reading() as session:
        return session.scalar(select(Photo.id).where(Photo.submission_id.is_not(None)).limit(1)) is not None


def add(store: Store, draft_id: int, *, caption: str, data: bytes, content_type: str, sha256: str,
        width: int, height: int, max_count: int) -> Photo | None:
    """Add a photo to the draft unless it already has max_count; None when it is full."""
    with store.writing() as session:
        existing = list(session.scalars(select(Photo.position).where(Photo.draft_id == draft_id).with_for_update()))
        if len(existing) >= max_count:
            return None
        photo = Photo(draft_id=draft_id, position=max(existing, default=-1) + 1, caption=caption, data=data,
                      content_type=content_type, size=len(data), width=width, height=height, sha256=sha256,
                      created_at=utcnow())
        session.add(photo)
        return photo


def draft_photo(store: Store, draft_id: int, photo_id: int, *, with_data: bool = False) -> Photo | None:
    """The photo only if it belongs to this draft (a patient sees their own photos and no one else's)."""
    query = select(Photo).where(Photo.id == photo_id, Photo.draft_id == draft_id)
    if with_data:
        query = query.options(undefer(Photo.data))
    with store.reading() as session:
        return session.scalar(query)


def submission_photo(store: Store, submission_id: str, photo_id: int) -> Photo | None:
    query = select(Photo).where(Photo.id == photo_id, Photo.submission_id == submission_id).options(undefer(Photo.data))
    with store.reading() as session:
        return session.scalar(query)


def remove(store: Store, draft_id: int, photo_id: int) -> bool:
    with store.writing() as session:
        return bool(session.execute(delete(Photo).where(Photo.id == photo_id, Photo.draft_id == draft_id)).rowcount)


def set_caption(store: Store, draft_id: int, photo_id: int, caption: str) -> None:
    with store.writing() as session:
        photo = session.scalar(select(Photo).where(Photo.id == photo_id, Photo.draft_id == draft_id))
        if photo is not None and photo.caption != caption:
            photo.caption = caption  # the ORM re-seals the whole row (track_key_ids), data included


def move_to_submission(session: Session, draft_token_hash: str, submission_id: str) -> int:
    """Inside the submit's transaction, before the draft row is deleted: the draft's photos become the submission's."""
    session.flush()  # the submission row exists before photos point at it
    draft_ids = select(Draft.id).where(Draft.token_hash == draft_token_hash).scalar_subquery()
    return session.execute(update(Photo).where(Photo.draft_id == draft_ids)
                           .values(draft_id=None, submission_id=submission_id)
                           .execution_options(synchronize_session=False)).rowcount


def delete_for_submission(session: Session, submission_id: str) -> int:
    """Erasure (intake.retention.erasure), inside the erasing transaction."""
    return session.execute(delete(Photo).where(Photo.submission_id == submission_id)).rowcount


def delete_for_expired_drafts(session: Session) -> int:
    """The drafts purge: photos of drafts past their expiry go with them (not left to ON DELETE CASCADE alone)."""
    expired = select(Draft.id).where(Draft.expires_at <= utcnow())
    return session.execute(delete(Photo).where(Photo.draft_id.in_(expired))).rowcount
