"""Masks applied from obligations: last four, partial phone, hidden by default."""

from __future__ import annotations

from rempart.access import (
    Obligation,
    ObligationKind,
    SensitiveField,
    apply_masks,
    mask_card,
    mask_email,
    mask_iban,
    mask_phone,
)


def test_card_shows_only_the_last_four() -> None:
    assert mask_card("4111 1111 1111 1234") == "**** **** **** 1234"
    assert "4111" not in mask_card("4111111111111234")
    assert mask_card("123") == "****"


def test_phone_keeps_prefix_and_last_two() -> None:
    assert mask_phone("+33 6 12 34 56 78") == "+33*******78"
    assert mask_phone("12345") == "*****"


def test_iban_and_email() -> None:
    assert mask_iban("FR76 3000 6000 0112 3456 7890 189") == "FR" + "*" * 21 + "0189"
    assert mask_email("jean.dupont@example.fr") == "***@example.fr"
    assert mask_email("nonsense") == "***"


def test_apply_masks_follows_obligations_and_hides_the_rest() -> None:
    values = {
        SensitiveField.CARD_NUMBER: "4111111111111234",
        SensitiveField.PHONE: "+33612345678",
        SensitiveField.EMAIL: "a@b.fr",
    }
    out = apply_masks(
        values, (Obligation(ObligationKind.CARD_LAST_FOUR, SensitiveField.CARD_NUMBER),)
    )
    assert out[SensitiveField.CARD_NUMBER] == "**** **** **** 1234"
    assert out[SensitiveField.PHONE] == "***"  # no obligation, no unmask: hidden
    assert out[SensitiveField.EMAIL] == "***"


def test_apply_masks_reveals_only_what_an_unmask_grant_covers() -> None:
    values = {SensitiveField.CARD_NUMBER: "4111111111111234", SensitiveField.PHONE: "+3361234"}
    out = apply_masks(
        values, (Obligation(ObligationKind.AUDIT_UNMASK, SensitiveField.CARD_NUMBER, "g1"),)
    )
    assert out[SensitiveField.CARD_NUMBER] == "4111111111111234"
    assert out[SensitiveField.PHONE] == "***"


def test_non_text_obligations_hide_text() -> None:
    out = apply_masks(
        {SensitiveField.TRANSCRIPT: "my card is 4111"},
        (Obligation(ObligationKind.TRANSCRIPT_REDACTED, SensitiveField.TRANSCRIPT),),
    )
    assert out[SensitiveField.TRANSCRIPT] == "***"
