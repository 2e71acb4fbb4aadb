"""Each recognizer family: what it must find and the look-alikes it must leave alone."""

from __future__ import annotations

import pytest

from rempart.redaction import Context, detect
from tests.redaction.helpers import found, labels, luhn_complete, nir_key

# Well-known test card numbers published by the schemes and processors.
CARDS = [
    "4111 1111 1111 1111",  # Visa
    "5555 5555 5555 4444",  # Mastercard 5-series
    "2223 0031 2200 3222",  # Mastercard 2-series
    "3782 822463 10005",  # American Express
    "6011 1111 1111 1117",  # Discover
    "3530 1113 3330 0000",  # JCB
]


@pytest.mark.parametrize("card", CARDS)
def test_card_numbers_of_every_scheme_are_found(card: str) -> None:
    text = f"mon numéro est {card} voilà"
    assert found(text) == [(card, "CARD_NUMBER")]


def test_card_number_typed_without_separators_is_found() -> None:
    assert found("4111111111111111", "en") == [("4111111111111111", "CARD_NUMBER")]


def test_mastercard_two_series_from_generated_numbers() -> None:
    for prefix in ("2221", "2500", "2720"):
        number = luhn_complete(prefix + "00123456789")
        assert labels(number, "en") == {"CARD_NUMBER"}, number


def test_number_failing_luhn_without_card_context_is_left_alone() -> None:
    assert found("contrat numéro 4111 1111 1111 1112", "fr") == []
    assert found("reference 4111111111111112", "en") == []


def test_luhn_valid_number_announced_as_order_number_is_left_alone() -> None:
    assert found("votre commande 4111111111111111 est partie", "fr") == []


def test_card_outside_issuer_ranges_is_not_a_card() -> None:
    number = luhn_complete("9" * 15)
    assert "CARD_NUMBER" not in labels(number, "en")


def test_spoken_card_number_maps_to_the_words() -> None:
    digits = "4111111111111111"
    words = {"0": "zéro", "1": "un", "4": "quatre"}
    spoken = " ".join(words[d] for d in digits)
    text = f"alors c'est {spoken} voilà"
    assert found(text) == [(spoken, "CARD_NUMBER")]


def test_spoken_english_card_with_double_and_oh() -> None:
    text = "my card is four one one one one one one one double one one one one one one one"
    assert labels(text, "en") == {"CARD_NUMBER"}


def test_expiry_and_cvv_after_cues() -> None:
    text = "carte 4111 1111 1111 1111 expire 03/27 cryptogramme 123"
    assert found(text) == [
        ("4111 1111 1111 1111", "CARD_NUMBER"),
        ("03/27", "CARD_EXPIRY"),
        ("123", "CARD_CVV"),
    ]


def test_spoken_expiry_and_security_code_in_english() -> None:
    text = "it expires oh three twenty seven and the security code is four one two"
    got = found(text, "en")
    assert ("oh three twenty seven", "CARD_EXPIRY") in got
    assert ("four one two", "CARD_CVV") in got


def test_plain_fraction_or_number_without_cue_is_not_expiry_or_cvv() -> None:
    assert found("il reste 3/4 du stock et 123 articles", "fr") == []


IBANS = [
    "FR76 3000 6000 0112 3456 7890 189",
    "GB82 WEST 1234 5698 7654 32",
    "DE89 3704 0044 0532 0130 00",
]


@pytest.mark.parametrize("iban", IBANS)
def test_valid_ibans_are_found(iban: str) -> None:
    assert found(f"IBAN : {iban}.") == [(iban, "IBAN")]


def test_iban_with_wrong_check_digits_is_not_found() -> None:
    assert "IBAN" not in labels("FR75 3000 6000 0112 3456 7890 189")


def test_iban_with_wrong_country_length_is_not_found() -> None:
    # Valid mod-97 would still need the 27 characters of a French IBAN.
    assert "IBAN" not in labels("FR76 3000 6000 0112 3456 7890 18")


def test_nir_with_key_is_found_and_corsica_departments_count() -> None:
    for body in ("1850375123456", "253072A073004", "253072B073004"):
        nir = body + nir_key(body)
        spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
        assert found(f"sécu {spaced}") == [(spaced, "NATIONAL_ID")], spaced


def test_nir_with_wrong_key_is_not_a_full_match() -> None:
    body = "1850375123456"
    bad = body + f"{(int(nir_key(body)) + 1) % 97:02d}"
    assert all(lbl != "NATIONAL_ID" or len(t) < 15 for t, lbl in found(f"n° {bad}"))


def test_us_ssn_with_dashes_and_invalid_areas() -> None:
    assert found("SSN 123-45-6789 please", "en") == [("123-45-6789", "NATIONAL_ID")]
    assert found("ref 666-45-6789 and 000-12-3456", "en") == []


def test_uk_nino_and_its_forbidden_prefixes() -> None:
    assert found("my NI number is AB 12 34 56 C", "en") == [("AB 12 34 56 C", "NATIONAL_ID")]
    assert found("code GB 12 34 56 C", "en") == []


@pytest.mark.parametrize(
    ("text", "lang", "phone"),
    [
        ("appelez-moi au 06 12 34 56 78", "fr", "06 12 34 56 78"),
        ("mon fixe +33 (0)1 42 68 53 00 merci", "fr", "+33 (0)1 42 68 53 00"),
        ("call 020 7946 0958 today", "en", "020 7946 0958"),
        ("my cell is (212) 555-0147", "en", "(212) 555-0147"),
        ("+44 7911 123456", "en", "+44 7911 123456"),
    ],
)
def test_phone_numbers_fr_gb_us(text: str, lang: str, phone: str) -> None:
    assert found(text, lang) == [(phone, "PHONE")]


def test_spoken_french_phone_in_pairs() -> None:
    text = "c'est zéro six douze trente-quatre cinquante-six soixante-dix-huit"
    assert found(text) == [
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", "PHONE")
    ]


def test_amounts_and_tracking_numbers_are_not_phones() -> None:
    assert found("le montant est de 0612345678 €", "fr") == []
    assert found("numéro de suivi 0612345678", "fr") == []


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("écrivez à jean.dupont@example.fr svp", "jean.dupont@example.fr"),
        (
            "c'est jean point dupont arobase gmail point com",
            "jean point dupont arobase gmail point com",
        ),
        ("it's john dot smith at outlook dot co dot uk", "john dot smith at outlook dot co dot uk"),
    ],
)
def test_emails_typed_and_dictated(text: str, email: str) -> None:
    assert found(text, "fr") == [(email, "EMAIL")]


def test_at_in_ordinary_english_is_not_an_email() -> None:
    assert found("I am at the office at noon", "en") == []


def test_ip_addresses_but_not_versions() -> None:
    assert found("from 192.168.10.20 and 2001:db8::8a2e:370:7334", "en") == [
        ("192.168.10.20", "IP_ADDRESS"),
        ("2001:db8::8a2e:370:7334", "IP_ADDRESS"),
    ]
    assert found("upgrade to version 10.0.19041.1 or v1.2.3.4", "en") == []


def test_pin_otp_and_password_after_cues() -> None:
    got = found("mon code pin c'est 4 8 2 1 et mon mot de passe est Soleil2024!")
    assert got == [("4 8 2 1", "PIN_OR_SECRET"), ("Soleil2024!", "PIN_OR_SECRET")]
    assert found("the one-time code is 583920", "en") == [("583920", "PIN_OR_SECRET")]


def test_date_of_birth_needs_a_birth_cue() -> None:
    text = "né le 12/03/1985, rendez-vous le 14/05/2024"
    assert found(text) == [("12/03/1985", "DATE_OF_BIRTH")]
    assert found("facture du 12 mars 2024", "fr") == []


def test_spoken_dates_of_birth() -> None:
    assert found("born on march third nineteen eighty-five", "en") == [
        ("march third nineteen eighty-five", "DATE_OF_BIRTH")
    ]
    assert found("je suis née le douze mars mille neuf cent quatre-vingt-cinq") == [
        ("douze mars mille neuf cent quatre-vingt-cinq", "DATE_OF_BIRTH")
    ]


def test_previous_turn_question_makes_a_bare_date_a_birth_date() -> None:
    ctx = Context.from_turn("quelle est votre date de naissance ?")
    spans = detect("le 4 juillet 1979", "fr", ctx)
    assert [s.label for s in spans] == ["DATE_OF_BIRTH"]
    assert detect("le 4 juillet 1979", "fr") == []


def test_names_after_introductions_even_if_unknown_and_lowercase() -> None:
    assert found("bonjour je m'appelle zorvan quelibrand et j'ai un souci") == [
        ("zorvan quelibrand", "PERSON")
    ]
    assert found("hi my name is Talvorn Brixendale, thanks", "en") == [
        ("Talvorn Brixendale", "PERSON")
    ]


def test_names_after_titles_salutations_and_in_signatures() -> None:
    text = "Bonjour Madame Kowalczyk,\nmerci.\nCordialement,\nÉloïse Vantrabeck"
    assert found(text) == [("Kowalczyk", "PERSON"), ("Éloïse Vantrabeck", "PERSON")]


def test_listed_first_name_in_lowercase_speech() -> None:
    assert ("nathalie", "PERSON") in found("oui alors nathalie elle a appelé hier")


def test_ambiguous_first_names_need_a_cue() -> None:
    assert found("la rose est rouge et le pierre est dur") == []


def test_addresses_french_and_english() -> None:
    assert found("j'habite au 12 bis rue des Lilas, 75011 Paris.") == [
        ("12 bis rue des Lilas, 75011 Paris", "ADDRESS")
    ]
    assert found("I live at 221B Baker Street, London NW1 6XE.", "en") == [
        ("221B Baker Street, London NW1 6XE", "ADDRESS")
    ]


def test_spoken_address_in_lowercase() -> None:
    text = "j'habite au douze rue des lilas soixante-quinze zéro onze paris et voilà"
    assert found(text) == [("douze rue des lilas soixante-quinze zéro onze paris", "ADDRESS")]


def test_hard_negatives_stay_untouched() -> None:
    for text, lang in [
        ("votre commande n° 123456789 a été expédiée", "fr"),
        ("the total is $1,234.56 for invoice 2024-0042", "en"),
        ("colis 1Z999AA10123456784 livré le 12/03/2024", "fr"),
        ("rendez-vous le 14 mai 2024 à 14h30", "fr"),
        ("please update to version 3.10.4", "en"),
        ("contract 4111 1111 1111 1112 renewed", "en"),
    ]:
        assert found(text, lang) == [], text
