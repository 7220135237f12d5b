"""How long the identity provider's values may be: what a user record and the webhook inbox hold."""

from __future__ import annotations

from songy.domain.errors import FieldError, ValidationError
from songy.domain.user import UserProfileChange

CLERK_ID_MAX_CHARS = 255
EMAIL_MAX_CHARS = 320
NAME_MAX_CHARS = 255
MESSAGE_ID_MAX_CHARS = 255


def check_profile_change(change: UserProfileChange) -> None:
    """Refuse a change with a value longer than its field holds (each named), before anything is looked up."""
    limits = [
        ("svix-id", change.message_id, MESSAGE_ID_MAX_CHARS),
        ("data.id", change.clerk_id, CLERK_ID_MAX_CHARS),
        ("email", change.email, EMAIL_MAX_CHARS),
        ("name", change.name, NAME_MAX_CHARS),
    ]
    errors = [
        FieldError(field, f"must be at most {limit} characters")
        for field, value, limit in limits
        if value is not None and len(value) > limit
    ]
    if errors:
        raise ValidationError(errors)
