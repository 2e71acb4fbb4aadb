"""Apply an access decision's obligations to an interaction before it leaves the process.

Every route that returns interaction data passes it through ``present``; a
test walks every such route and checks that masked fields come out masked.
The rules, from ``rempart.access.obligations``: a field with a text mask is
masked (phone, e-mail), the transcript keeps its redacted form unless an
unmask grant revealed it, and anything the decision does not mention, or
mentions with an obligation this code does not know, is hidden.
"""

from __future__ import annotations

from rempart.access.obligations import (
    DEFAULT_MASKS,
    Obligation,
    ObligationKind,
    SensitiveField,
    apply_masks,
    masks_for,
)
from rempart.access.permissions import Permission
from rempart.contact.schemas import InteractionOut
from rempart.errors import PermissionDenied

HIDDEN = "***"

# What a machine token with interaction:read sees: the stored redacted form with
# every default mask, never an original.
MACHINE_VIEW: tuple[Obligation, ...] = masks_for(Permission.INTERACTION_READ, DEFAULT_MASKS)


def _kind(obligations: tuple[Obligation, ...], field: SensitiveField) -> ObligationKind | None:
    """The masking obligation on ``field``; AUDIT_UNMASK when only an unmask mentions it."""
    unmasked = False
    for o in obligations:
        if o.field is not field:
            continue
        if o.kind is ObligationKind.AUDIT_UNMASK:
            unmasked = True
        else:
            return o.kind
    return ObligationKind.AUDIT_UNMASK if unmasked else None


def present(out: InteractionOut, obligations: tuple[Obligation, ...]) -> InteractionOut:
    """``out`` as the obligations allow it to be shown."""
    transcript = _kind(obligations, SensitiveField.TRANSCRIPT)
    if out.view == "original" and transcript is not ObligationKind.AUDIT_UNMASK:
        # Only an unmask grant may show originals; reaching here otherwise is a bug.
        raise PermissionDenied("the original text needs an unmask grant")
    update: dict[str, object] = {}
    if transcript not in (ObligationKind.TRANSCRIPT_REDACTED, ObligationKind.AUDIT_UNMASK):
        update["segments"] = [s.model_copy(update={"text": HIDDEN}) for s in out.segments]
        update["subject"] = HIDDEN if out.subject is not None else None
    values = {
        f: v
        for f, v in (
            (SensitiveField.PHONE, out.customer_phone),
            (SensitiveField.EMAIL, out.customer_email),
        )
        if v is not None
    }
    masked = apply_masks(values, obligations)
    if SensitiveField.PHONE in masked:
        update["customer_phone"] = masked[SensitiveField.PHONE]
    if SensitiveField.EMAIL in masked:
        update["customer_email"] = masked[SensitiveField.EMAIL]
    return out.model_copy(update=update)


__all__ = ["HIDDEN", "MACHINE_VIEW", "present"]
