"""The published shapes of interactions: what a contact-center platform pushes and reads.

These pydantic models are the JSON Schema of the ingestion API (published in
the OpenAPI document). Unknown fields are refused, sizes are bounded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Channel = Literal["call", "chat", "email"]
Direction = Literal["inbound", "outbound"]
Speaker = Literal["agent", "customer", "ivr", "bot", "system"]


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, and no real transcript contains one.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)

ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@/+-]+$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), NoNul]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]

MAX_SEGMENTS = 5000
MAX_SEGMENT_CHARS = 100_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_SEGMENT_CHARS)


class AgentRef(_Strict):
    """An agent as the tenant's identity provider names them."""

    issuer: Annotated[str, StringConstraints(min_length=1, max_length=500), NoNul]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=255), NoNul]


class WordIn(_Strict):
    """One recognised word of a call segment, with its times in ms from the call's start.

    The words appear in the segment's text in order; ingest finds each one
    there to know which audio to silence in the recording's redacted rendition.
    """

    text: Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
    start_ms: Annotated[int, Field(ge=0)]
    end_ms: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.end_ms < self.start_ms:
            raise ValueError("end_ms is before start_ms")
        return self


MAX_WORDS = 20_000


class SegmentIn(_Strict):
    """A turn of a call (with times in ms from the start), a chat message, or an e-mail body."""

    speaker: Speaker
    text: Annotated[str, StringConstraints(max_length=MAX_SEGMENT_CHARS), NoNul]
    start_ms: Annotated[int, Field(ge=0)] | None = None
    end_ms: Annotated[int, Field(ge=0)] | None = None
    sent_at: AwareDatetime | None = None
    words: Annotated[list[WordIn], Field(max_length=MAX_WORDS)] | None = None

    @model_validator(mode="after")
    def _times_in_order(self) -> Self:
        if (self.start_ms is None) != (self.end_ms is None):
            raise ValueError("start_ms and end_ms go together")
        if self.start_ms is not None and self.end_ms is not None and self.end_ms < self.start_ms:
            raise ValueError("end_ms is before start_ms")
        if self.words is not None and self.start_ms is None:
            raise ValueError("word timings need the segment's start_ms and end_ms")
        return self


class RecordingIn(_Strict):
    media_type: Annotated[str, StringConstraints(pattern=r"^audio/[a-z0-9.+-]+$", max_length=100)]
    duration_ms: Annotated[int, Field(ge=0)]
    size_bytes: Annotated[int, Field(ge=0)] | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    channels: Annotated[int, Field(ge=1, le=16)] | None = None


class InteractionIn(_Strict):
    """An interaction pushed by a contact-center platform."""

    external_id: ExternalId
    channel: Channel
    direction: Direction = "inbound"
    language: Language | None = None
    subject: Annotated[str, StringConstraints(max_length=500), NoNul] | None = None
    queue: Name | None = None
    customer_id: ExternalId | None = None
    # The customer's contact details: stored encrypted under the customer's
    # key and findable by blind index only; they need a customer_id.
    customer_phone: Annotated[str, StringConstraints(min_length=3, max_length=40), NoNul] | None = (
        None
    )
    customer_email: (
        Annotated[str, StringConstraints(min_length=3, max_length=320), NoNul] | None
    ) = None
    agent: AgentRef | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    segments: Annotated[list[SegmentIn], Field(max_length=MAX_SEGMENTS)] = []
    recordings: Annotated[list[RecordingIn], Field(max_length=16)] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.channel == "call":
            for i, seg in enumerate(self.segments):
                if seg.start_ms is None:
                    raise ValueError(f"segments[{i}]: call segments need start_ms and end_ms")
        if self.channel != "call" and self.recordings:
            raise ValueError("only calls have recordings")
        if self.customer_id is None and (self.customer_phone or self.customer_email):
            raise ValueError("customer_phone and customer_email need a customer_id")
        return self


View = Literal["redacted", "original"]


class SegmentOut(BaseModel):
    seq: int
    speaker: Speaker
    text: str
    start_ms: int | None
    end_ms: int | None
    sent_at: datetime | None
    entities: dict[str, int] = Field(
        default_factory=dict, description="Sensitive entities found in the original, by type."
    )


class RecordingOut(BaseModel):
    id: str
    media_type: str
    duration_ms: int
    size_bytes: int | None
    sha256: str | None
    channels: int | None
    media_status: str = "pending"


class InteractionSummary(BaseModel):
    id: str
    external_id: str
    channel: Channel
    direction: Direction
    language: str | None
    queue: str | None
    customer_id: str | None
    started_at: datetime
    ended_at: datetime | None
    created_at: datetime


class InteractionOut(InteractionSummary):
    subject: str | None
    agent: AgentRef | None
    segments: list[SegmentOut]
    recordings: list[RecordingOut]
    protection: str | None = Field(
        default=None, description="redacted, redacted+original, or null (stored before protection)"
    )
    view: View = Field(
        default="redacted", description="Which text the segments carry: redacted or original."
    )
    customer_phone: str | None = Field(default=None, description="Masked unless unmasked.")
    customer_email: str | None = Field(default=None, description="Masked unless unmasked.")


class InteractionPage(BaseModel):
    items: list[InteractionSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


__all__ = [
    "AgentRef",
    "Channel",
    "Direction",
    "InteractionIn",
    "InteractionOut",
    "InteractionPage",
    "InteractionSummary",
    "RecordingIn",
    "RecordingOut",
    "SegmentIn",
    "SegmentOut",
    "Speaker",
    "View",
    "WordIn",
]
