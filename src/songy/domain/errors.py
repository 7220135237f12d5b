"""Domain errors. Each carries a stable ``code`` that the HTTP layer maps to a status."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a request: ``field`` is the client-facing (camelCase) name."""

    field: str
    message: str


class ValidationError(DomainError):
    """The request breaks one or more rules; ``details`` names each field."""

    code = "VALIDATION_ERROR"

    def __init__(self, details: list[FieldError], message: str = "Request validation failed") -> None:
        super().__init__(message)
        self.details = details


class UserNotFound(DomainError):
    code = "USER_NOT_FOUND"

    def __init__(self, message: str = "User not found for clerkId") -> None:
        super().__init__(message)


class MusicNotFound(DomainError):
    code = "MUSIC_NOT_FOUND"

    def __init__(self, message: str = "Music record not found") -> None:
        super().__init__(message)


class InvalidTransition(DomainError):
    """A lifecycle change that the Music state machine forbids."""

    code = "INVALID_TRANSITION"


class MusicNotReady(DomainError):
    """The music has no audio yet (still generating, or failed)."""

    code = "MUSIC_NOT_READY"


class AuthenticationError(DomainError):
    """The caller could not be authenticated (missing, malformed, expired or forged token)."""

    code = "UNAUTHORIZED"


class GenerationError(Exception):
    """A fault while rendering or storing audio, classified for the retry policy.

    Adapters raise the subclasses so that nothing above them needs to know httpx or botocore.
    """

    transient: bool = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientGenerationError(GenerationError):
    """Worth retrying: rate limits, 5xx, timeouts, dropped connections, truncated streams."""

    transient = True


class PermanentGenerationError(GenerationError):
    """Retrying cannot help: rejected prompt, bad credentials, exhausted quota, missing bucket."""

    transient = False


class IdentityProviderUnavailable(DomainError):
    """The identity provider's keys could not be fetched: the fault is ours, not the caller's."""

    code = "AUTH_UNAVAILABLE"


class DatabaseUnavailable(DomainError):
    """The database could not be reached or dropped the connection: nothing was changed, try again."""

    code = "DATABASE_UNAVAILABLE"

    def __init__(self, message: str = "the database is unavailable; try again shortly") -> None:
        super().__init__(message)


class WebhookRejected(DomainError):
    """An inbound webhook failed verification (signature, timestamp, headers) or is malformed."""

    code = "WEBHOOK_REJECTED"


class Conflict(DomainError):
    """A write lost to a concurrent one: a unique key already taken, a record changed or removed since it was read
    (its version moved on), or the database broke a deadlock. Nothing was changed; the caller may try again."""

    code = "CONFLICT"

    def __init__(self, message: str = "the record was changed by a concurrent request; try again") -> None:
        super().__init__(message)


class InvalidInput(DomainError):
    """A value the database cannot store (a NUL byte, an out-of-range number) that got past the boundary checks."""

    code = "VALIDATION_ERROR"


class InsufficientCredits(DomainError):
    code = "INSUFFICIENT_CREDITS"


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key came with a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class MusicExpired(DomainError):
    """The track's audio was removed by the retention policy; the record remains."""

    code = "MUSIC_EXPIRED"


class PlaylistNotFound(DomainError):
    code = "PLAYLIST_NOT_FOUND"

    def __init__(self, message: str = "Playlist not found") -> None:
        super().__init__(message)


class TrackNotPlayable(DomainError):
    """Only COMPLETED tracks with audio go into playlists."""

    code = "MUSIC_NOT_READY"


class WebhookEndpointNotFound(DomainError):
    code = "WEBHOOK_ENDPOINT_NOT_FOUND"

    def __init__(self, message: str = "Webhook endpoint not found") -> None:
        super().__init__(message)
