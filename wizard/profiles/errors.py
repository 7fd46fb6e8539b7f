"""The one error a profile can fail with.

Every way a profile can be wrong (a bad field in a file, a bad CLI flag, a bad import) ends in
:class:`ValidationError`, which names the field, says what was wrong and what is allowed, so the CLI
and the GUI can show it without a traceback.
"""

from __future__ import annotations


class ProfileError(Exception):
    """Base class of profile-layer errors."""


class ValidationError(ProfileError):
    """A profile field holds a value we cannot accept."""

    def __init__(self, field: str, problem: str, allowed: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.allowed = allowed
        message = f"{field}: {problem}" if field else problem
        if allowed:
            message += f" (allowed: {allowed})"
        super().__init__(message)

    def under(self, prefix: str) -> ValidationError:
        """The same error with its field path nested below ``prefix``."""
        field = f"{prefix}.{self.field}" if self.field and not self.field.startswith("[") else (f"{prefix}{self.field}")
        return ValidationError(field, self.problem, self.allowed)


class ProfileNotFound(ProfileError):
    """No stored profile has the name or id the user gave."""


class SecretsUnavailable(ProfileError):
    """No secure keyring exists; secrets must be asked for every time."""
