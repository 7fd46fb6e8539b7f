"""The PEM files a profile names (certificate, key, CA), read in the user's own session.

The privileged helper never opens a path a user wrote into a profile: the client reads the files
and sends their text inline with the connect request.
"""

from __future__ import annotations

from pathlib import Path

from wizard.profiles.errors import ProfileError
from wizard.profiles.model import Profile

FILE_FIELDS = ("ca_file", "certificate_file", "private_key_file")
MAX_FILE = 64 * 1024


def read_profile_files(profile: Profile) -> dict[str, str]:
    """Field -> PEM text for every file the profile names; ProfileError names an unreadable one."""
    out: dict[str, str] = {}
    for field in FILE_FIELDS:
        path = getattr(profile.auth, field)
        if not path:
            continue
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise ProfileError(f"cannot read the {field.replace('_', ' ')} {path!r}: {exc.strerror}") from None
        if len(data) > MAX_FILE:
            raise ProfileError(f"the {field.replace('_', ' ')} {path!r} is larger than {MAX_FILE} bytes")
        out[field] = data.decode("utf-8", "replace")
    return out
