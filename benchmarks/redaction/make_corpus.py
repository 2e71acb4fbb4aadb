"""Generate the labelled redaction corpus (FR/EN; transcripts, chats, e-mails).

    python benchmarks/redaction/make_corpus.py --records 1200 --seed 7 -o corpus.jsonl

Each line: {"id", "lang", "channel", "text", "spans": [[start, end, label], ...]}.
Values are valid where validity is checkable (Luhn card numbers with real issuer
ranges including Mastercard 2-series, mod-97 IBANs, NIR keys, phone numbers checked
with phonenumbers); transcripts are lower case, without punctuation, with numbers
in words (written by ``spoken.py``, not by the engine's normaliser); a quarter of
the records are hard negatives (order numbers, amounts, tracking numbers,
appointment and invoice dates, versions, contract numbers failing Luhn).

Names: a third of the people have invented names built from syllables, and the
script refuses any invented token found in a word list inside the engine
(``rempart.redaction.lexicon.all_lists``); it prints how many of all name tokens
(Faker's included) the engine's lists do not contain.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from pathlib import Path

import phonenumbers
from faker import Faker
from stdnum import iban as stdnum_iban

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spoken import (
    EN_MONTHS,
    FR_MONTHS,
    date_words,
    digits_words,
    house_number_words,
    pairs_words,
)

from rempart.redaction.lexicon import all_lists

Piece = tuple[str, str | None]
ENGINE_WORDS = frozenset().union(*all_lists().values())
SYLLABLES = [
    "zor",
    "van",
    "que",
    "li",
    "brand",
    "tal",
    "vorn",
    "brix",
    "en",
    "dale",
    "ka",
    "mir",
    "ost",
    "ul",
    "pha",
    "dro",
    "nek",
    "sil",
    "var",
    "to",
    "gre",
    "mek",
    "aly",
    "dru",
    "vel",
    "sko",
    "rin",
    "thu",
    "bax",
    "ter",
    "oph",
    "wen",
    "quo",
    "zel",
]


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = {"fr": Faker("fr_FR"), "en": Faker("en_GB")}
        for f in self.fake.values():
            f.seed_instance(seed)
        self.name_tokens = 0
        self.name_tokens_unlisted = 0

    # --- values -------------------------------------------------------------
    def invented(self) -> str:
        while True:
            word = "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3)))
            if word not in ENGINE_WORDS and len(word) >= 5:
                return word.capitalize()

    def person(self, lang: str) -> tuple[str, str]:
        if self.rng.random() < 0.35:
            first, last = self.invented(), self.invented()
        else:
            first, last = self.fake[lang].first_name(), self.fake[lang].last_name()
        for tok in f"{first} {last}".replace("-", " ").split():
            self.name_tokens += 1
            self.name_tokens_unlisted += tok.casefold() not in ENGINE_WORDS
        return first, last

    def luhn(self, prefix: str, length: int) -> str:
        body = prefix + "".join(
            self.rng.choice(string.digits) for _ in range(length - len(prefix) - 1)
        )
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        return body + str((10 - total % 10) % 10)

    def card(self) -> str:
        prefix, length = self.rng.choice(
            [
                ("4", 16),
                ("4", 16),
                ("51", 16),
                ("55", 16),
                ("2221", 16),
                ("2720", 16),
                ("2345", 16),
                ("34", 15),
                ("37", 15),
                ("6011", 16),
                ("3530", 16),
            ]
        )
        return self.luhn(prefix, length)

    def iban(self) -> str:
        country, bban_len = self.rng.choice([("FR", 23), ("GB", 18), ("DE", 18), ("BE", 12)])
        while True:
            if country == "GB":
                bban = "".join(self.rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(
                    self.rng.choice(string.digits) for _ in range(14)
                )
            else:
                bban = "".join(self.rng.choice(string.digits) for _ in range(bban_len))
            check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
            value = f"{country}{check:02d}{bban}"
            if stdnum_iban.is_valid(value):
                return value

    def phone(self, lang: str) -> tuple[str, str]:
        """(national digits, region) valid for phonenumbers."""
        while True:
            region = self.rng.choice(
                ["FR", "FR", "GB", "US"] if lang == "fr" else ["GB", "US", "US", "FR"]
            )
            if region == "FR":
                digits = self.rng.choice(["06", "07", "01", "02", "04", "09"]) + "".join(
                    self.rng.choice(string.digits) for _ in range(8)
                )
            elif region == "GB":
                digits = self.rng.choice(["079", "078", "020", "0161", "0113"])
                digits += "".join(self.rng.choice(string.digits) for _ in range(11 - len(digits)))
            else:
                digits = (
                    str(self.rng.choice([212, 415, 646, 312, 617, 303]))
                    + str(self.rng.randint(200, 999))
                    + f"{self.rng.randint(0, 9999):04d}"
                )
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return digits, region

    def nir(self) -> str:
        sex = self.rng.choice("12")
        yy = f"{self.rng.randint(40, 99):02d}"
        mm = f"{self.rng.randint(1, 12):02d}"
        dep = self.rng.choice(["75", "69", "13", "2A", "2B", "33", "59"])
        rest = f"{self.rng.randint(1, 999):03d}{self.rng.randint(1, 999):03d}"
        body = sex + yy + mm + dep + rest
        key = 97 - int(body.replace("2A", "19").replace("2B", "18")) % 97
        return f"{body}{key:02d}"

    def ssn(self) -> str:
        area = self.rng.choice([n for n in range(1, 900) if n != 666])
        return f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"

    def nino(self) -> str:
        while True:
            first = self.rng.choice("ABCEHJKLMNOPRSTWXYZ")
            second = self.rng.choice("ABCEHJKLMNPRSTWXYZ")
            if first + second not in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"):
                break
        d = "".join(self.rng.choice(string.digits) for _ in range(6))
        return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {self.rng.choice('ABCD')}"

    def dob(self) -> tuple[int, int, int]:
        return self.rng.randint(1, 28), self.rng.randint(1, 12), self.rng.randint(1940, 2004)

    # --- rendering ----------------------------------------------------------
    @staticmethod
    def group(digits: str, size: int = 4) -> str:
        return " ".join(digits[i : i + size] for i in range(0, len(digits), size))

    def spoken_digits(self, digits: str, lang: str) -> str:
        mode = self.rng.random()
        if lang == "fr" and mode < 0.5:
            return pairs_words(digits, lang)
        return digits_words(digits, lang, rng_double=mode > 0.8)


def sentence(pieces: list[Piece]) -> tuple[str, list[list[object]]]:
    text = ""
    spans: list[list[object]] = []
    for chunk, label in pieces:
        if label is not None:
            spans.append([len(text), len(text) + len(chunk), label])
        text += chunk
    return text, spans


def entity_pieces(g: Gen, entity: str, channel: str, lang: str) -> list[Piece]:
    """One sentence carrying one entity, as said or typed in this channel."""
    r = g.rng
    spoken = channel == "transcript"
    fr = lang == "fr"
    if entity == "CARD_NUMBER":
        card = g.card()
        value = g.spoken_digits(card, lang) if spoken else r.choice([g.group(card), card])
        intro = r.choice(
            ["ma carte c'est ", "mon numéro de carte est ", "carte bancaire : "]
            if fr
            else ["my card number is ", "the card is ", "card: "]
        )
        if spoken:
            intro = (
                "agent: quel est votre numéro de carte client: oui c'est "
                if fr
                else "agent: can i take the long number on the card client: yes it's "
            )
        return [(intro, None), (value, "CARD_NUMBER")]
    if entity == "CARD_EXPIRY":
        mm, yy = r.randint(1, 12), r.randint(25, 31)
        value = (
            f"{pairs_words(f'{mm:02d}', lang)} {pairs_words(str(yy), lang)}"
            if spoken
            else f"{mm:02d}/{yy}"
        )
        return [("elle expire le " if fr else "it expires ", None), (value, "CARD_EXPIRY")]
    if entity == "CARD_CVV":
        cvv = f"{r.randint(100, 999)}"
        value = digits_words(cvv, lang) if spoken else cvv
        return [
            ("le cryptogramme c'est " if fr else "the security code is ", None),
            (value, "CARD_CVV"),
        ]
    if entity == "IBAN":
        iban = g.iban()
        if spoken:
            value = (
                " ".join(iban[:2].lower())
                + " "
                + digits_words(iban[2:4], lang)
                + " "
                + " ".join(digits_words(c, lang) if c.isdigit() else c.lower() for c in iban[4:])
            )
        else:
            value = r.choice([g.group(iban), iban])
        return [("mon IBAN est " if fr else "my IBAN is ", None), (value, "IBAN")]
    if entity == "PHONE":
        digits, region = g.phone(lang)
        if spoken:
            value = g.spoken_digits(digits, lang)
        elif region == "FR":
            value = r.choice(
                [
                    " ".join(digits[i : i + 2] for i in range(0, 10, 2)),
                    digits,
                    "+33 " + digits[1] + " " + " ".join(digits[i : i + 2] for i in range(2, 10, 2)),
                ]
            )
        elif region == "GB":
            value = r.choice([f"{digits[:5]} {digits[5:]}", "+44 " + digits[1:]])
        else:
            value = r.choice(
                [
                    f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                    f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                ]
            )
        intro = r.choice(
            ["vous pouvez me joindre au ", "mon portable : ", "mon numéro c'est "]
            if fr
            else ["you can reach me on ", "my mobile is ", "call me at "]
        )
        return [(intro, None), (value, "PHONE")]
    if entity == "NATIONAL_ID":
        if fr:
            nir = g.nir()
            value = (
                g.spoken_digits(nir.replace("2A", "").replace("2B", ""), lang)
                if spoken and "2A" not in nir and "2B" not in nir
                else f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} "
                f"{nir[13:]}"
            )
            return [("mon numéro de sécurité sociale est ", None), (value, "NATIONAL_ID")]
        if r.random() < 0.5:
            ssn = g.ssn()
            value = digits_words(ssn.replace("-", ""), lang) if spoken else ssn
            return [("my social security number is ", None), (value, "NATIONAL_ID")]
        nino = g.nino()
        return [
            ("my national insurance number is ", None),
            (nino.lower() if spoken else nino, "NATIONAL_ID"),
        ]
    if entity == "EMAIL":
        first, last = g.person(lang)
        domain, tld = r.choice(
            [
                ("gmail", "com"),
                ("orange", "fr"),
                ("outlook", "com"),
                ("yahoo", "co.uk"),
                ("free", "fr"),
            ]
        )
        if spoken:
            dot, at = ("point", "arobase") if fr else ("dot", "at")
            value = f"{first.lower()} {dot} {last.lower()} {at} {domain} {dot} " + f" {dot} ".join(
                tld.split(".")
            )
        else:
            value = f"{first.lower()}.{last.lower()}@{domain}.{tld}"
        return [("mon adresse mail c'est " if fr else "my email is ", None), (value, "EMAIL")]
    if entity == "ADDRESS":
        num = r.randint(1, 99)
        if fr:
            street = r.choice(["rue", "avenue", "boulevard", "allée", "impasse", "place"])
            name = r.choice(
                [
                    "des Lilas",
                    "Victor Hugo",
                    "de la République",
                    "du Moulin",
                    f"de {g.person('fr')[1]}",
                    "Jean Jaurès",
                    "des Acacias",
                ]
            )
            cp = f"{r.choice(['75', '69', '13', '33', '44', '59'])}{r.randint(0, 999):03d}"
            city = g.fake["fr"].city()
            if spoken:
                value = (
                    f"{house_number_words(num, lang)} {street} {name.lower()} "
                    f"{pairs_words(cp[:2], lang)} {digits_words(cp[2:], lang)} "
                    f"{city.lower()}"
                )
            else:
                value = f"{num} {street} {name}, {cp} {city}"
            return [("j'habite au " if spoken else "mon adresse : ", None), (value, "ADDRESS")]
        street = r.choice(["Street", "Road", "Lane", "Avenue", "Close", "Drive"])
        name = g.person("en")[1]
        city = g.fake["en"].city()
        pc = (
            f"{r.choice(['SW', 'N', 'M', 'B', 'LS', 'EH'])}{r.randint(1, 20)} "
            f"{r.randint(1, 9)}{r.choice(string.ascii_uppercase)}{r.choice('ABDEFGHJ')}"
        )
        if spoken:
            value = (
                f"{house_number_words(num, lang)} {name.lower()} {street.lower()} {city.lower()}"
            )
        else:
            value = f"{num} {name} {street}, {city} {pc}"
        return [("i live at " if spoken else "my address is ", None), (value, "ADDRESS")]
    if entity == "DATE_OF_BIRTH":
        d, m, y = g.dob()
        if spoken:
            value = date_words(d, m, y, lang)
            intro = "je suis né le " if fr else "i was born on "
        else:
            value = r.choice(
                [
                    f"{d:02d}/{m:02d}/{y}",
                    f"{d} {FR_MONTHS[m - 1]} {y}"
                    if fr
                    else f"{d} {EN_MONTHS[m - 1].capitalize()} {y}",
                ]
            )
            intro = r.choice(
                ["date de naissance : ", "je suis née le "]
                if fr
                else ["date of birth: ", "I was born on "]
            )
        return [(intro, None), (value, "DATE_OF_BIRTH")]
    if entity == "PIN_OR_SECRET":
        if r.random() < 0.6:
            code = "".join(r.choice(string.digits) for _ in range(r.choice([4, 6])))
            value = digits_words(code, lang) if spoken else code
            intro = r.choice(
                ["le code reçu par SMS est ", "mon code pin c'est "]
                if fr
                else ["the one-time code is ", "my pin is "]
            )
        else:
            value = g.fake[lang].password(length=10, special_chars=False)
            if spoken:
                value = value.lower()
            intro = "mon mot de passe est " if fr else "my password is "
        return [(intro, None), (value, "PIN_OR_SECRET")]
    if entity == "IP_ADDRESS":
        value = g.fake["en"].ipv4_public()
        return [("mon adresse IP est " if fr else "my IP address is ", None), (value, "IP_ADDRESS")]
    # PERSON
    first, last = g.person(lang)
    if spoken:
        value = f"{first} {last}".lower()
        intro = r.choice(
            ["je m'appelle ", "mon nom c'est ", "alors moi c'est "]
            if fr
            else ["my name is ", "my name's ", "the name is "]
        )
    else:
        value = f"{first} {last}"
        intro = r.choice(
            ["Je m'appelle ", "Mon nom est ", "De la part de "]
            if fr
            else ["My name is ", "This is ", "Hi, I'm "]
        )
        if intro in ("This is ", "Hi, I'm ") and first.casefold() not in ENGINE_WORDS:
            intro = "My name is "  # a weak introduction with an unknown name is unfair
    return [(intro, None), (value, "PERSON")]


NEGATIVES = {
    "fr": [
        "votre commande numéro {o} a été expédiée",
        "le montant est de {a} €",
        "le colis {t} sera livré demain",
        "rendez-vous le {d} à 14h30",
        "facture du {d} à régler",
        "mettez à jour vers la version {v}",
        "contrat numéro {c}",
        "votre dossier {o} est en cours",
    ],
    "en": [
        "your order number {o} has shipped",
        "the amount is ${a}",
        "parcel {t} arrives tomorrow",
        "appointment on {d} at 2:30 pm",
        "invoice dated {d}",
        "please update to version {v}",
        "contract {c} renewed",
        "ticket {o} is open",
    ],
}
NEG_SPOKEN = {
    "fr": [
        "votre commande numéro {ow} est partie",
        "ça fait {aw} euros",
        "le rendez-vous est le {dw}",
    ],
    "en": [
        "your order number {ow} has shipped",
        "that comes to {aw} dollars",
        "the appointment is on {dw}",
    ],
}
FILLERS = {
    "fr": {
        "chat": ["Bonjour,", "Merci d'avance.", "J'ai un souci avec ma facture."],
        "email": [
            "Bonjour Madame,",
            "Je vous écris au sujet de mon contrat.",
            "Merci de votre retour.",
        ],
        "transcript": [
            "agent: bonjour que puis-je faire pour vous",
            "client: oui bonjour",
            "euh d'accord",
        ],
    },
    "en": {
        "chat": ["Hello,", "Thanks in advance.", "I have a problem with my bill."],
        "email": [
            "Dear Sir or Madam,",
            "I am writing about my contract.",
            "Thank you for your help.",
        ],
        "transcript": ["agent: hello how can i help", "client: yes hello", "uh okay"],
    },
}
ENTITIES = [
    "CARD_NUMBER",
    "PHONE",
    "EMAIL",
    "PERSON",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "IBAN",
    "NATIONAL_ID",
    "PIN_OR_SECRET",
    "CARD_EXPIRY",
    "CARD_CVV",
    "IP_ADDRESS",
]


def negative(g: Gen, channel: str, lang: str) -> str:
    r = g.rng
    if channel == "transcript":
        t = r.choice(NEG_SPOKEN[lang])
        return t.format(
            ow=digits_words("".join(r.choice(string.digits) for _ in range(6)), lang),
            aw=pairs_words(str(r.randint(10, 99)), lang),
            dw=date_words(r.randint(1, 28), r.randint(1, 12), 2025, lang).rsplit(" ", 2)[0]
            if lang == "fr"
            else " ".join(date_words(r.randint(1, 28), r.randint(1, 12), 2025, lang).split()[:2]),
        )
    t = r.choice(NEGATIVES[lang])
    bad = g.card()
    bad = bad[:-1] + str((int(bad[-1]) + 1) % 10)
    return t.format(
        o=r.randint(10**8, 10**9),
        a=f"{r.randint(1, 9)} {r.randint(100, 999)},{r.randint(10, 99)}"
        if lang == "fr"
        else f"{r.randint(1, 9)},{r.randint(100, 999)}.{r.randint(10, 99)}",
        t=f"1Z{r.randint(10**15, 10**16)}",
        d=f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}/2025",
        v=f"{r.randint(1, 12)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
        c=g.group(bad),
    )


def record(g: Gen, rid: int, channel: str, lang: str) -> dict[str, object]:
    r = g.rng
    pieces: list[Piece] = []
    sep = " " if channel == "transcript" else "\n" if channel == "email" else " "
    pieces.append((r.choice(FILLERS[lang][channel]) + sep, None))
    if r.random() < 0.25:
        pieces.append((negative(g, channel, lang) + sep, None))
        pieces.append((r.choice(FILLERS[lang][channel]), None))
    else:
        pool = [e for e in ENTITIES if channel != "transcript" or e != "IP_ADDRESS"]
        for k, ent in enumerate(r.sample(pool, r.randint(1, 3))):
            if k:
                pieces.append(
                    (sep if channel == "transcript" else ". " if channel == "chat" else ".\n", None)
                )
            pieces.extend(entity_pieces(g, ent, channel, lang))
        if r.random() < 0.3:
            pieces.append((sep + negative(g, channel, lang), None))
    if channel == "email":
        first, last = g.person(lang)
        pieces.append(("\n\nCordialement,\n" if lang == "fr" else "\n\nBest regards,\n", None))
        pieces.append((f"{first} {last}", "PERSON"))
    if channel == "transcript":  # speech-to-text output: no punctuation
        pieces = [
            (t.replace(".", "").replace(",", "").replace("?", "").lower(), lab) for t, lab in pieces
        ]
    text, spans = sentence(pieces)
    return {"id": rid, "lang": lang, "channel": channel, "text": text, "spans": spans}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-o", "--output", type=Path, default=Path("-"))
    args = ap.parse_args()
    g = Gen(args.seed)
    out = sys.stdout if str(args.output) == "-" else args.output.open("w", encoding="utf-8")
    combos = [(c, lang) for c in ("transcript", "chat", "email") for lang in ("fr", "en")]
    for i in range(args.records):
        channel, lang = combos[i % len(combos)]
        rec = record(g, i, channel, lang)
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    if out is not sys.stdout:
        out.close()
    share = g.name_tokens_unlisted / max(1, g.name_tokens)
    print(
        f"name tokens: {g.name_tokens}, not in any engine list: {g.name_tokens_unlisted} "
        f"({share:.0%})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
