"""The faster scans give exactly what the plain forms they replace give.

Each rewritten pattern or check is compared with the form it replaced (kept here
as the reference) on known cases and on arbitrary text (hypothesis laws).
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.iban import calc_check_digits

from rempart.redaction.context import CUES, CUES_LOWER, Context
from rempart.redaction.engine import default_engine
from rempart.redaction.lexicon import first_names, street_types
from rempart.redaction.normalize.numbers import NUMBER_WORDS, number_view
from rempart.redaction.recognizers.address import _NUMBER as _ADDRESS_NUMBER
from rempart.redaction.recognizers.address import AddressRecognizer
from rempart.redaction.recognizers.base import _PARTS, _WORDS, Document
from rempart.redaction.recognizers.cards import _EXPIRY, _expiry_matches
from rempart.redaction.recognizers.digit_runs import (
    _PARTIAL_CUES,
    _PARTIAL_CUES_LOWER,
    _PARTIAL_LABELS,
    _SEP,
    RUN,
)
from rempart.redaction.recognizers.iban import (
    _COUNTRIES,
    _IBAN,
    _LENGTHS,
    IbanRecognizer,
    _mod97,
    is_iban,
)
from rempart.redaction.recognizers.ip import _V4, _V6, _VERSION, IpRecognizer
from rempart.redaction.recognizers.national_id import _NIR
from rempart.redaction.recognizers.person import (
    _NAME_TOKEN,
    _STRONG_PARTS,
    _TITLECASE,
    _TITLES,
    _WEAK_PARTS,
    _listed_tokens,
    _trigger_matches,
    _triggers,
)
from rempart.redaction.recognizers.phone import _valid_for_region, _valid_in_any_region
from rempart.redaction.spans import Span

REFERENCE_RUN = re.compile(rf"(?<![\w.,/:+\-])(?:\+[ ]?|\(?)\d(?:{_SEP}?\d)*(?![\w/:])")

_RUN_ALPHABET = [*"0123456789+( ).-/:,\na_é\t)", "(0)", "\r\n", "\u00a0", "\u0663"]
_EXPIRY_ALPHABET = [
    *"0123459/-. \n_xé",
    "20",
    "27",
    "mars",
    "Mai",
    "déc",
    "sept",
    "aug",
    "MAY",
    "août",
    "AOÛT",
    "Déc",
    "\u017fept",
    "x",
]
_WORD_ALPHABET = [*"abé-'\u2019 1_Z", "x-y", "l'a", "\u0130", "\u017f", *"ÿß\xa0\xd7ª²µ\t\n"]
_NUMBER_ALPHABET = [
    *sorted(NUMBER_WORDS["fr"] | NUMBER_WORDS["en"]),
    *["et", "and", "double", "oh", "o", "-", " ", ".", "x", "É", "\u017fix", "\u0131"],
    *["\u0130", "\u2167", "'", "2"],
]


def _text(alphabet: list[str], max_size: int = 14) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), max_size=max_size).map("".join)


def _reference_words(low: str) -> frozenset[str]:
    found = set(_WORDS.findall(low))
    for word in [w for w in found if "-" in w or "'" in w or "\u2019" in w]:
        found.update(_PARTS.findall(word))
    return frozenset(found)


@settings(max_examples=600)
@given(_text(_RUN_ALPHABET))
def test_digit_run_scan_equals_the_plain_pattern(text: str) -> None:
    assert [m.span() for m in RUN.finditer(text)] == [
        m.span() for m in REFERENCE_RUN.finditer(text)
    ]


def test_digit_run_scan_known_cases() -> None:
    for text in ["+33 6 12 34 56 78", "(0)20 7946 0018", "a1 2", "x+1 2", "12/34", "+ 1", "(1"]:
        assert [m.span() for m in RUN.finditer(text)] == [
            m.span() for m in REFERENCE_RUN.finditer(text)
        ]


@settings(max_examples=600)
@given(_text(_EXPIRY_ALPHABET))
def test_expiry_scan_equals_the_single_alternation(text: str) -> None:
    doc = Document(text, "fr")
    expected = [(m.start(), m.end(), m.group(2) == "/") for m in _EXPIRY.finditer(text)]
    assert _expiry_matches(text, doc.words) == expected
    if doc.lower_exact:  # the month form looked for on the lower-cased text
        assert _expiry_matches(text, doc.words, doc.lower) == expected


def test_expiry_scan_keeps_the_leftmost_match_of_either_form() -> None:
    # The month form wins "mars 12"; the numeric "12 27" that follows is found.
    text = "mars 12 12 27 et 03/27"
    doc = Document(text, "fr")
    expected = [(m.start(), m.end(), m.group(2) == "/") for m in _EXPIRY.finditer(text)]
    assert _expiry_matches(text, doc.words) == expected
    if doc.lower_exact:  # the month form looked for on the lower-cased text
        assert _expiry_matches(text, doc.words, doc.lower) == expected
    assert len(expected) == 3


@settings(max_examples=600)
@given(_text(_WORD_ALPHABET, 12))
def test_document_words_equal_the_two_scan_form(text: str) -> None:
    doc = Document(text, "fr")
    assert doc.words == _reference_words(doc.lower)


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_NUMBER_ALPHABET), min_size=1, max_size=8), st.booleans())
def test_number_view_on_the_lower_cased_text_is_the_same(words: list[str], fr: bool) -> None:
    lang = "fr" if fr else "en"
    text = " ".join(words)
    doc = Document(text, lang)
    plain = number_view(text, lang, doc.words)
    fast = number_view(text, lang, doc.words, doc.lower)
    assert (fast.text, fast.to_original(0, len(fast.text) or 1)) == (
        plain.text,
        plain.to_original(0, len(plain.text) or 1),
    )
    assert fast.text == doc.view.text


def test_number_view_odd_case_characters_take_the_plain_path() -> None:
    # U+017F (long s) matches "s" case-insensitively though its lower() is itself.
    text = "\u017fix \u017fept"
    fast = number_view(text, "fr", None, text.lower()).text
    assert fast == number_view(text, "fr").text == "6 7"


def _iban(country: str, body: str) -> str:
    return country + calc_check_digits(country + "00" + body) + body


@settings(max_examples=500)
@given(
    st.sampled_from(sorted(_COUNTRIES)),
    st.text(alphabet="0123456789ABCDEFZ", min_size=10, max_size=30),
    st.booleans(),
)
def test_iban_check_agrees_with_stdnum(country: str, body: str, corrupt: bool) -> None:
    value = _iban(country, body)
    if corrupt:
        value = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert is_iban(value) == bool(stdnum_iban.is_valid(value))


def test_iban_check_known_values() -> None:
    good = ["FR7630006000011234567890189", "GB82WEST12345698765432", "BE71096123456769"]
    for value in good:
        assert is_iban(value)
        assert stdnum_iban.is_valid(value)
    # Mod-97 right but the Belgian national check wrong (stdnum's country
    # module), and wrong lengths.
    for value in ["BE98096123456768", "FR763000600001123456789018", "GB82WEST1234569876543"]:
        assert is_iban(value) == bool(stdnum_iban.is_valid(value))
        assert not is_iban(value)


# Patterns whose look-behind moved after their first character.
_MOVED_LOOKBEHIND = [
    (
        re.compile(r"(?<![\w])[1-478](?:[ .\-]{0,2}[0-9AaBb]){12,14}(?![\w])"),
        _NIR,
        [*"0123456789 .-aAbBx_é", "2A", "18503"],
    ),
    (
        re.compile(
            _ADDRESS_NUMBER.pattern.replace(
                r"(\d(?<![\w/.,:]\d)\d{0,3})", r"(?<![\w/.,:])(\d{1,4})"
            ),
            _ADDRESS_NUMBER.flags,
        ),
        _ADDRESS_NUMBER,
        [*"0123456789 ,./:bisterAa\n_é", " bis ", " rue "],
    ),
    (
        re.compile(_IBAN.pattern.replace(r"([A-Za-z])(?<![\w][A-Za-z])", r"(?<![\w])([A-Za-z])")),
        _IBAN,
        [*"0123456789 -.aFRZ_é", "FR76", "GB82", "fr"],
    ),
]


@settings(max_examples=300)
@given(st.data())
def test_moved_lookbehinds_match_the_same(data: st.DataObject) -> None:
    for reference, fast, alphabet in _MOVED_LOOKBEHIND:
        assert reference.pattern != fast.pattern
        text = data.draw(_text(alphabet, 30))
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
            (m.span(), m.groups()) for m in reference.finditer(text)
        ]


@settings(max_examples=500)
@given(st.sampled_from([1, 44, 1, 44, 33, 49]), st.integers(10**6, 10**11))
def test_any_region_check_agrees_with_phonenumbers(country_code: int, national: int) -> None:
    num = phonenumbers.PhoneNumber(country_code=country_code, national_number=national)
    assert _valid_in_any_region(num) == phonenumbers.is_valid_number(num)


def test_any_region_check_known_numbers() -> None:
    verdicts = set()
    for text in [
        "+1 416 555 0199",
        "+1 416 963 0100",  # Canada, a region after the US in +1
        "+44 1534 449 988",  # Jersey shares +44
        "+1 212 555 0123",
        "+1 876 927 1234",  # Jamaica, leading digits 876
        "+1 123 456 7890",
        "+44 9999 999 999",
    ]:
        num = phonenumbers.parse(text, None)
        verdict = phonenumbers.is_valid_number(num)
        assert _valid_in_any_region(num) == verdict
        verdicts.add(verdict)
    assert verdicts == {True, False}


_TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.UAN,
]


@settings(max_examples=800)
@given(
    st.sampled_from(["FR", "GB", "US"]),
    st.sampled_from(_TYPES),
    st.integers(1, 6),
    st.text(alphabet="0123456789", min_size=0, max_size=7),
    st.sampled_from([33, 44, 1]),
)
def test_region_check_agrees_with_phonenumbers(
    region: str, kind: int, cut: int, tail: str, other_code: int
) -> None:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return
    digits = (str(example.national_number)[:-cut] + tail).lstrip("0") or "1"
    for code in (example.country_code, other_code):
        num = phonenumbers.PhoneNumber(country_code=code, national_number=int(digits))
        assert _valid_for_region(num, region) == phonenumbers.is_valid_number_for_region(
            num, region
        )


def test_region_check_known_numbers() -> None:
    for text, region in [
        ("+33 6 12 34 56 78", "FR"),
        ("+33 1 23 45 67 89", "FR"),
        ("+33 8 00 12 34 56", "FR"),
        ("+44 20 7946 0018", "GB"),
        ("+44 7700 900123", "GB"),
        ("+1 212 555 0123", "US"),
        ("+1 650 253 0000", "US"),
        ("+44 1534 449 988", "GB"),  # Jersey: valid, but not for GB
    ]:
        num = phonenumbers.parse(text, None)
        assert _valid_for_region(num, region) == phonenumbers.is_valid_number_for_region(
            num, region
        )


_NAME_ALPHABET = [
    *["jean", "marie", "anne", "jean-pierre", "Jean", "JEAN", "Marie.", "-marie"],
    *["x", "_", "2", "-", "'", ".", " ", "  ", "é", "ß", "\u0130", "\u017f", "\u2019"],
]


@settings(max_examples=600)
@given(_text(_NAME_ALPHABET, 10))
def test_listed_name_tokens_are_those_of_the_whole_scan(text: str) -> None:
    names = first_names()
    doc = Document(text, "fr")
    expected = [
        m.span() for m in _NAME_TOKEN.finditer(text) if m.group().casefold().rstrip(".") in names
    ]
    present = names & doc.words
    got = [m.span() for m in _listed_tokens(text, doc.lower, present, names)] if present else []
    assert got == expected


_SHARED_EXAMPLES = [
    example
    for code in (1, 44)
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    for kind in _TYPES
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]


@settings(max_examples=800)
@given(
    st.sampled_from(_SHARED_EXAMPLES),
    st.integers(1, 5),
    st.text(alphabet="0123456789", max_size=6),
)
def test_any_region_check_agrees_on_numbers_near_each_shared_code_region(
    example: phonenumbers.PhoneNumber, cut: int, tail: str
) -> None:
    digits = (str(example.national_number)[:-cut] + tail).lstrip("0") or "1"
    num = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(digits))
    assert _valid_in_any_region(num) == phonenumbers.is_valid_number(num)


REFERENCE_TITLECASE = re.compile(r"(?<![^\W\d_])[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]")
_TRIGGER_ALPHABET = [
    *sorted(_STRONG_PARTS),
    *sorted(_WEAK_PARTS),
    *sorted(_TITLES),
    *["Bonjour", "MONSIEUR", "Je M'appelle", "nom :", "name is", "Mr.", "je suis", "c\u2019est"],
    *["x", "1", "_", " ", "  ", ",", ".", ":", "\n", "\t", "é", "-", "'", "\u0130", "\u017f"],
]


@settings(max_examples=800)
@given(_text(_TRIGGER_ALPHABET, 8), st.booleans())
def test_trigger_scan_on_lower_case_text_matches_the_plain_one(text: str, fr: bool) -> None:
    doc = Document(text, "fr" if fr else "en")
    for strong in (True, False):
        rx = _triggers(doc.words, strong)
        expected = [m.span() for m in rx.finditer(text)] if rx is not None else []
        assert [m.span() for m in _trigger_matches(doc, strong)] == expected


@settings(max_examples=500)
@given(_text(_TRIGGER_ALPHABET, 8))
def test_titlecase_scan_equals_the_plain_pattern(text: str) -> None:
    fast, plain = _TITLECASE.search(text, 0, 4000), REFERENCE_TITLECASE.search(text, 0, 4000)
    assert (fast.span() if fast else None) == (plain.span() if plain else None)


def _reference_iban_spans(doc: Document) -> list[list[int | str]]:
    """The IBAN recognizer's loop as written before: ``_IBAN.search`` from each position."""
    rec = IbanRecognizer()
    if not doc.has_digits:
        return []
    text, pos, out = doc.view.text, 0, []
    while (m := _IBAN.search(text, pos)) is not None:
        end = rec._valid_end(text, m)
        if end is None:
            pos = m.start() + 1
            continue
        pos = end
        span = doc.span_from_view(m.start(), end, "IBAN", 0.95, "iban")
        if span:
            out.append(span.as_list())
    return out


_IBAN_ALPHABET = [
    *["FR7630006000011234567890189", "GB82WEST12345698765432", "BE71096123456769"],
    *["FR76 3000 6000 0112 3456 7890 189", "f r 7 6 3000", "FR76", "GB82", "iban ", "7 4"],
    *["fr7630006000011234567890189", "Gb82 WEST 1234 5698 7654 32", "f R 76", "xFR76"],
    *["es 4 9", "e s", "\u017fe", "ß"],
    *"0123456789 -.aFRZ_é",
]


@settings(max_examples=500)
@given(_text(_IBAN_ALPHABET, 10))
def test_iban_candidate_starts_find_what_the_full_search_finds(text: str) -> None:
    doc = Document(text, "fr")
    assert [s.as_list() for s in IbanRecognizer().find(doc)] == _reference_iban_spans(doc)


_CUE_ALPHABET = [
    *["Carte ", "CVV ", "cryptogramme ", "code PIN ", "mot de passe ", "Password: ", "OTP "],
    *["né le ", "Date of Birth ", "expire ", "EXP ", "IBAN ", "sécurité sociale ", "SSN "],
    *["commande ", "Order number ", "montant ", "téléphone ", "Phone ", "call me back "],
    *["4111 1111 1111 1111 ", "06 12 34 56 78 ", "123 ", "4567 ", "12/27 ", "03 2027 "],
    *["12 mars 1985 ", "zéro six douze ", "one two three four ", "078-05-1120 ", "€ "],
    *["x ", "\n", ", ", "\u0130 ", "\u017f "],
]


@settings(max_examples=300)
@given(_text(_CUE_ALPHABET, 12), st.booleans())
def test_cues_on_the_lower_cased_view_find_the_same_spans(text: str, fr: bool) -> None:
    lang = "fr" if fr else "en"
    for rec in default_engine().recognizers:
        fast = Document(text, lang)
        plain = Document(text, lang)
        plain._lower_exact = False  # the IGNORECASE patterns on the view itself
        assert plain.view_lower is None
        assert [s.as_list() for s in rec.find(fast)] == [s.as_list() for s in rec.find(plain)]


def test_single_number_words_convert_as_text2num_says() -> None:
    from text_to_num import find_numbers

    from rempart.redaction.normalize.numbers import _single_word, _Tok

    for lang in ("fr", "en"):
        for word in [*sorted(NUMBER_WORDS[lang]), "quatre-vingt-deux", "twenty-one"]:
            for sep in (False, True):
                direct = find_numbers([_Tok(0, len(word), word, sep)], lang, 0.0)
                expected = tuple((o.start, o.end, str(o.text)) for o in direct)
                assert _single_word(lang, word, sep) == expected


def _reference_mod97(compact: str) -> bool:
    rearranged, total = compact[4:] + compact[:4], 0
    for c in rearranged:
        total = (total * (100 if c.isalpha() else 10) + int(c, 36)) % 97
    return total == 1


@settings(max_examples=500)
@given(
    st.text(
        alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        min_size=5,
        max_size=34,
    )
)
def test_mod97_reads_letters_as_the_digit_by_digit_form(value: str) -> None:
    assert _mod97(value) == _reference_mod97(value)


def _reference_valid_end(text: str, m: re.Match[str]) -> int | None:
    country = (m.group(1) + m.group(2)).upper()
    if country not in _COUNTRIES:
        return None
    compact, best = country + m.group(3) + m.group(4), None
    for k, c in enumerate(m.group(5)):
        if not c.isalnum():
            continue
        compact += c.upper()
        if len(compact) > _LENGTHS.get(country, 34):
            break
        if country in _LENGTHS and len(compact) != _LENGTHS[country]:
            continue
        pos = m.start(5) + k
        if len(compact) >= 15 and is_iban(compact) and not text[pos + 1 : pos + 2].isalnum():
            best = pos + 1
    return best


@settings(max_examples=500)
@given(_text([*_IBAN_ALPHABET, "CH9300762011623852957", "XK051212012345678906"], 8))
def test_iban_end_found_as_the_per_character_loop_finds_it(text: str) -> None:
    for m in _IBAN.finditer(text):
        assert IbanRecognizer._valid_end(text, m) == _reference_valid_end(text, m)


def test_latin1_letter_table_is_the_letter_class() -> None:
    from rempart.redaction.recognizers.base import (
        _LETTERS_JOINERS_LATIN1,
        _LETTERS_LATIN1,
        _NOT_LETTER_LATIN1,
    )

    for code in range(256):
        is_letter = re.fullmatch(r"[^\W\d_]", chr(code)) is not None
        assert (code in _NOT_LETTER_LATIN1) == (not is_letter)
        assert _LETTERS_LATIN1[code] == (code if is_letter else 32)
        joiner = chr(code) in "-'"
        assert _LETTERS_JOINERS_LATIN1[code] == (code if is_letter or joiner else 32)
    text = "ÿß\xa0\xd7ª²µ n°12 l'été 3e ÉTÉ_x"
    assert Document(text, "fr").words == _reference_words(text.lower())
    plain = "ÿß\xa0\xd7ª²µ n°12 été 3e ÉTÉ_x"
    assert Document(plain, "fr").words == _reference_words(plain.lower())


def _reference_ip_spans(text: str) -> list[list[int | str]]:
    """The IP recognizer's scans as written before: gated only by a digit-dot-digit
    and by the colon count."""
    doc = Document(text, "en")
    out = []
    if "." in text and re.search(r"\d\.\d", text):
        for m in _V4.finditer(text):
            if not _VERSION.search(text, max(0, m.start() - 12), m.start()):
                span = doc.span(m.start(), m.end(), "IP_ADDRESS", 0.9, "ip_address")
                if span:
                    out.append(span.as_list())
    if "::" in text or text.count(":") >= 3:
        for m in _V6.finditer(text):
            candidate = m.group()
            if candidate.count(":") < 2 or sum(c.isalnum() for c in candidate) < 3:
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            span = doc.span(m.start(), m.end(), "IP_ADDRESS", 0.9, "ip_address")
            if span:
                out.append(span.as_list())
    return out


_IP_ALPHABET = [
    *["192.168.1.10", "10.0.0", ".1", "fe80::1", "2001:db8::", "::", "1:2:3:4:5:6:7:8"],
    *["version ", "v", "agent: ", "a:b", "ff:", ":0:"],
    *"0123456789.: aF\n",
]


@settings(max_examples=600)
@given(_text(_IP_ALPHABET, 12))
def test_ip_shape_gates_find_what_the_plain_scans_find(text: str) -> None:
    found = [s.as_list() for s in IpRecognizer().find(Document(text, "en"))]
    assert found == _reference_ip_spans(text)


def test_ip_shape_gates_known_cases() -> None:
    for text in ["ip 192.168.1.10", "fe80::1 and 2001:db8::1", "1:2:3:4:5:6:7:8", "v1.2.3.4"]:
        assert [s.as_list() for s in IpRecognizer().find(Document(text, "en"))] == (
            _reference_ip_spans(text)
        )
    assert _reference_ip_spans("ip 192.168.1.10") == [[3, 15, "IP_ADDRESS"]]


_CUE_ALPHABET = [
    *["carte ", "Carte Vitale ", "iban ", "RIB ", "sécu ", "ssn ", "portable ", "phone "],
    *["numéro de carte ", "card number ", "ni number ", "cb", "x", "é", "_", " ", "0", "\n"],
]


@settings(max_examples=600)
@given(_text(_CUE_ALPHABET, 8), st.integers(0, 40), st.integers(0, 120))
def test_one_search_for_any_partial_cue_finds_one_where_a_label_search_does(
    text: str, width: int, end: int
) -> None:
    end = min(end, len(text))
    start = max(0, end - width)
    for union, table, where in (
        (_PARTIAL_CUES, CUES, text),
        (_PARTIAL_CUES_LOWER, CUES_LOWER, text.lower()),
    ):
        expected = any(table[label].search(where, start, end) for label in _PARTIAL_LABELS)
        assert (union.search(where, start, end) is not None) == expected


def _reference_address_spans(doc: Document) -> list[list[int | str]]:
    """The address recognizer as written before: every number read onwards."""
    rec = AddressRecognizer()
    types = street_types()
    if not doc.has_digits or (
        types["fr"].isdisjoint(doc.words) and types["en"].isdisjoint(doc.words)
    ):
        return []
    text = doc.view.text
    return [
        s.as_list()
        for m in _ADDRESS_NUMBER.finditer(text)
        for s in rec._from_number(doc, text, m, types)
    ]


_ADDRESS_ALPHABET = [
    *["12 ", "4 97 20", "3", "bis ", "rue ", "des Lilas", ", 75011 Paris", "Baker ", "Street"],
    *["douze ", "avenue ", "mail ", "et ", "\u0663", ",", " ", "\n", "London NW1 6XE"],
]


@settings(max_examples=500)
@given(_text(_ADDRESS_ALPHABET, 10), st.booleans())
def test_numbers_without_a_word_after_them_are_skipped_unread(text: str, fr: bool) -> None:
    doc = Document(text, "fr" if fr else "en")
    assert [s.as_list() for s in AddressRecognizer().find(doc)] == _reference_address_spans(doc)


def _reference_runs(text: str, lang: str) -> list[list[tuple[int, int, str]]]:
    """``_runs`` as written before: every member checked, no memo."""
    from rempart.redaction.normalize import numbers as nb

    runs: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    last_end = -1
    for m in nb._MEMBERS[lang].finditer(text):
        word = nb._fold(m.group())
        if not nb._is_member(word, lang):
            continue
        contiguous = (
            last_end >= 0
            and m.start() - last_end <= 3
            and nb._ALNUM.search(text, last_end, m.start()) is None
        )
        if current and not contiguous:
            runs.append(current)
            current = []
        current.append((m.start(), m.end(), word))
        last_end = m.end()
    if current:
        runs.append(current)
    conn, out = nb._CONNECTORS[lang], []
    for run in runs:
        while run and (run[0][2] in conn or (run[0][2] in nb._ZERO_ALIASES and len(run) == 1)):
            run = run[1:]
        while run and (run[-1][2] in conn or run[-1][2] in nb._REPEATERS):
            run = run[:-1]
        if any(nb._is_number_word(w, lang) for _, _, w in run):
            out.append(run)
    return out


def _reference_convert(
    text: str, run: list[tuple[int, int, str]], lang: str
) -> list[tuple[int, int, str]]:
    """``_convert`` as written before: every run, one word too, through find_numbers."""
    from text_to_num import find_numbers

    from rempart.redaction.normalize import numbers as nb

    toks: list[nb._Tok] = []
    repeat_before: dict[int, tuple[int, int]] = {}
    pending: tuple[int, int] | None = None
    prev_end = -1
    for start, end, word in run:
        if word in nb._REPEATERS:
            pending, prev_end = (nb._REPEATERS[word], start), end
            continue
        norm = "zéro" if lang == "fr" and word == "zero" else word
        if lang == "en" and word in nb._ZERO_ALIASES:
            norm = "zero"
        sep = prev_end >= 0 and bool(nb._BREAK.search(text, prev_end, start))
        if pending is not None:
            repeat_before[len(toks)], pending, sep = pending, None, True
        toks.append(nb._Tok(start, end, norm, sep))
        prev_end = end
    out = []
    for occ in find_numbers(toks, lang, 0.0) if toks else []:
        ostart, digits = toks[occ.start].start, str(occ.text)
        rep = repeat_before.get(occ.start)
        if rep is not None and digits[:1].isdigit():
            factor, ostart = rep
            digits = digits[0] * factor + digits[1:]
        out.append((ostart, toks[occ.end - 1].end, digits))
    return out


_GAPS = [" ", "  ", "   ", "    ", "-", " - ", ". ", ".", ", ", "\n", " x ", "", "'"]


@settings(max_examples=800)
@given(
    st.lists(
        st.tuples(st.sampled_from(_NUMBER_ALPHABET), st.sampled_from(_GAPS)),
        min_size=1,
        max_size=10,
    ),
    st.booleans(),
)
def test_number_runs_and_conversion_equal_the_unmemoised_forms(
    pieces: list[tuple[str, str]], fr: bool
) -> None:
    from rempart.redaction.normalize.numbers import _convert, _runs

    lang, text = ("fr" if fr else "en"), "".join(w + gap for w, gap in pieces)
    runs = _runs(text, lang, text.lower())
    assert runs == _reference_runs(text, lang)
    for run in runs:
        assert _convert(text, run, lang) == _reference_convert(text, run, lang)


def _reference_person_spans(doc: Document) -> list[list[int | str]]:
    """The person recognizer as written before: every weak trigger read."""
    from rempart.redaction.recognizers.person import _TITLE_ONLY, PersonRecognizer, cased

    rec = PersonRecognizer()
    out: list[Span] = []
    is_cased = cased(doc.text)
    for m in _trigger_matches(doc, strong=True):
        title = _TITLE_ONLY.match(m.group().strip(" .:,")) is not None
        out += rec._names_after(doc, m.end(), is_cased, strong=True, title=title)
    for m in _trigger_matches(doc, strong=False):
        out += rec._names_after(doc, m.end(), is_cased, strong=False, title=False)
    out += rec._signatures(doc, is_cased)
    out += rec._listed(doc, is_cased)
    if doc.expects("PERSON"):
        out += rec._answer(doc, is_cased)
    return [s.as_list() for s in out]


_PERSON_ALPHABET = [
    *["bonjour ", "Bonjour ", "merci ", "c'est ", "hello ", "hi ", "je m'appelle ", "Madame "],
    *["jean ", "Jean ", "Marie-Claire ", "claire", "Zorvan ", "Quelibrand", "Vaneßa ", "ẞ"],
    *["µ", "é", "\u0130", "\u017f", " ", ", ", "\n", "-", "'", "2", "Cordialement,\n"],
]


@settings(max_examples=600)
@given(_text(_PERSON_ALPHABET, 10), st.booleans(), st.booleans())
def test_weak_triggers_skipped_without_a_listed_name_change_nothing(
    text: str, fr: bool, asked: bool
) -> None:
    from rempart.redaction.recognizers.person import PersonRecognizer

    ctx = Context(frozenset({"PERSON"})) if asked else Context()
    doc = Document(text, "fr" if fr else "en", ctx)
    assert [s.as_list() for s in PersonRecognizer().find(doc)] == _reference_person_spans(doc)


@settings(max_examples=400)
@given(st.text(alphabet=st.sampled_from([*"0123456789 a-é\u0663\u00b2", "\u20ac", "\U0001d7d8"])))
def test_ascii_digit_count_is_the_per_digit_count(text: str) -> None:
    from rempart.redaction.recognizers.national_id import _ascii_digit_count

    assert _ascii_digit_count(text) == sum(text.count(d) for d in "0123456789")


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from([*"ab 1@:/\t\u00a0\u2003\u00b2\u0663x.-", "\u2028"])))
def test_signature_line_check_equals_the_per_word_form(line: str) -> None:
    from rempart.redaction.recognizers.person import _digit_or_address_char

    expected = any(any(c.isdigit() or c in "@:/" for c in w) for w in line.split())
    assert _digit_or_address_char(line) == expected
