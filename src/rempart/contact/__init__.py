"""Contact-center data of each tenant: customers, interactions, transcripts, recordings."""

from rempart.contact import service
from rempart.contact.models import (
    Customer,
    Interaction,
    Queue,
    Recording,
    Team,
    TranscriptSegment,
)
from rempart.contact.schemas import InteractionIn, InteractionOut, InteractionPage

__all__ = [
    "Customer",
    "Interaction",
    "InteractionIn",
    "InteractionOut",
    "InteractionPage",
    "Queue",
    "Recording",
    "Team",
    "TranscriptSegment",
    "service",
]
