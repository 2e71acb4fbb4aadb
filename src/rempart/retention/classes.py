"""The data classes a retention policy governs, and the bounds on their durations."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class DataClass(StrEnum):
    """What a retention duration applies to (see ``docs/retention.md`` for the mapping).

    - ``original``: the encrypted originals (``TranscriptSegment.original_ct``,
      ``Interaction.subject_original_ct``), set to NULL;
    - ``transcript``: the transcript segments and the interaction's subject
      (redacted, legacy clear and original), deleted or set to NULL;
    - ``recording``: the recordings, their media first (media store), then their rows;
    - ``metadata``: the interaction row itself, and with it everything it still holds;
    - ``audit``: the tenant's audit log; entries past the duration are pruned (content
      dropped, leaf hash and place in the Merkle log kept: ``rempart.audit.prune``).
    """

    ORIGINAL = "original"
    TRANSCRIPT = "transcript"
    RECORDING = "recording"
    METADATA = "metadata"
    AUDIT = "audit"


# The order a purge run walks the classes in: the widest first, so that a row the
# metadata class deletes is not first trimmed by the narrower classes.
PURGE_ORDER: Final = (
    DataClass.METADATA,
    DataClass.RECORDING,
    DataClass.TRANSCRIPT,
    DataClass.ORIGINAL,
)

MIN_DAYS: Final = 1
MAX_DAYS: Final = 36_500  # a hundred years: beyond that a number is a typo
AUDIT_MIN_DAYS: Final = 365

__all__ = ["AUDIT_MIN_DAYS", "MAX_DAYS", "MIN_DAYS", "PURGE_ORDER", "DataClass"]
