"""Numbers and dates as a speech-to-text engine writes them (FR/EN), for the corpus.

Written independently of the engine's normaliser (which uses text2num) so that the
benchmark does not test the engine against itself.
"""

from __future__ import annotations

FR_UNITS = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
]
FR_TENS = {20: "vingt", 30: "trente", 40: "quarante", 50: "cinquante", 60: "soixante"}
EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
EN_TENS = {
    20: "twenty",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    80: "eighty",
    90: "ninety",
}
FR_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
EN_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
EN_ORD = {
    1: "first",
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    6: "sixth",
    7: "seventh",
    8: "eighth",
    9: "ninth",
    10: "tenth",
    11: "eleventh",
    12: "twelfth",
    13: "thirteenth",
    14: "fourteenth",
    15: "fifteenth",
    16: "sixteenth",
    17: "seventeenth",
    18: "eighteenth",
    19: "nineteenth",
    20: "twentieth",
    30: "thirtieth",
}


def fr_0_99(n: int) -> str:
    if n < 20:
        return FR_UNITS[n]
    if n < 70:
        tens, unit = divmod(n, 10)
        base = FR_TENS[tens * 10]
        if unit == 0:
            return base
        return f"{base} et un" if unit == 1 else f"{base}-{FR_UNITS[unit]}"
    if n < 80:
        rest = n - 60
        return "soixante et onze" if rest == 11 else f"soixante-{FR_UNITS[rest]}"
    rest = n - 80
    return "quatre-vingts" if rest == 0 else f"quatre-vingt-{FR_UNITS[rest]}"


def en_0_99(n: int) -> str:
    if n < 20:
        return EN_UNITS[n]
    tens, unit = divmod(n, 10)
    return EN_TENS[tens * 10] + (f"-{EN_UNITS[unit]}" if unit else "")


def digits_words(digits: str, lang: str, rng_double: bool = False) -> str:
    """Digit by digit ("quatre neuf sept"), optionally with "double six" for repeats."""
    units = FR_UNITS if lang == "fr" else EN_UNITS
    out: list[str] = []
    i = 0
    while i < len(digits):
        d = int(digits[i])
        if rng_double and i + 1 < len(digits) and digits[i + 1] == digits[i]:
            out.append(f"double {units[d]}")
            i += 2
            continue
        out.append(units[d] if lang == "fr" or d != 0 else "oh")
        i += 1
    return " ".join(out)


def pairs_words(digits: str, lang: str) -> str:
    """French phone style: "zéro six douze trente-quatre"."""
    out: list[str] = []
    for k in range(0, len(digits), 2):
        pair = digits[k : k + 2]
        if len(pair) == 1:
            out.append(fr_0_99(int(pair)) if lang == "fr" else en_0_99(int(pair)))
        elif pair[0] == "0":
            unit = FR_UNITS[int(pair[1])] if lang == "fr" else EN_UNITS[int(pair[1])]
            out.append(("zéro " if lang == "fr" else "oh ") + unit)
        else:
            out.append(fr_0_99(int(pair)) if lang == "fr" else en_0_99(int(pair)))
    return " ".join(out)


def year_words(year: int, lang: str) -> str:
    if lang == "fr":
        if year < 2000:
            return "mille neuf cent " + fr_0_99(year - 1900)
        rest = year - 2000
        return "deux mille" + (f" {fr_0_99(rest)}" if rest else "")
    if year < 2000:
        return "nineteen " + en_0_99(year - 1900)
    rest = year - 2000
    return "two thousand" + (f" and {en_0_99(rest)}" if rest else "")


def date_words(day: int, month: int, year: int, lang: str) -> str:
    if lang == "fr":
        d = "premier" if day == 1 else fr_0_99(day)
        return f"{d} {FR_MONTHS[month - 1]} {year_words(year, 'fr')}"
    if day in EN_ORD:
        d = EN_ORD[day]
    else:
        tens = day - day % 10
        d = f"{EN_TENS[tens]}-{EN_ORD[day % 10]}"
    return f"{EN_MONTHS[month - 1]} {d} {year_words(year, 'en')}"


def house_number_words(n: int, lang: str) -> str:
    return fr_0_99(n) if lang == "fr" else en_0_99(n)
