"""Operators and per-tenant policies."""

from __future__ import annotations

import pytest

from rempart.errors import ConfigurationError
from rempart.redaction import (
    BLOCKED_TEXT,
    DEFAULT_POLICY,
    Mask,
    OperatorState,
    Policy,
    Pseudonym,
    PseudonymKey,
    Surrogate,
    SurrogateMap,
    Tokenize,
    TokenVault,
    redact,
)
from rempart.redaction.engine import Engine, RedactionError
from rempart.types import TenantId

CARD = "4111 1111 1111 1111"


def test_default_policy_replaces_with_type_tags() -> None:
    assert redact(f"carte {CARD}", "fr").text == "carte [CARD_NUMBER]"


def test_mask_keeps_last_four_digits_only() -> None:
    policy = Policy(operators={"CARD_NUMBER": Mask(keep_last=4)})
    out = redact(f"carte {CARD}", "fr", policy).text
    assert out == "carte ************1111"
    assert "4111" not in out[:-4]


def test_mask_never_reveals_most_of_a_short_value() -> None:
    assert Mask(keep_last=4).apply("CARD_CVV", "123", OperatorState()) == "***"


def test_pseudonym_is_stable_within_a_tenant_and_differs_across_tenants() -> None:
    policy = Policy(default_operator=Pseudonym())
    a = OperatorState(key=PseudonymKey(b"tenant-a-key-0123456789"))
    b = OperatorState(key=PseudonymKey(b"tenant-b-key-0123456789"))
    one = redact(f"carte {CARD}", "fr", policy, state=a).text
    same = redact(f"card {CARD.replace(' ', '')}", "en", policy, state=a).text
    other = redact(f"carte {CARD}", "fr", policy, state=b).text
    assert one.split()[-1] == same.split()[-1]
    assert one.split()[-1] != other.split()[-1]
    assert CARD not in one


def test_pseudonym_key_is_hidden_in_repr() -> None:
    assert "secret" not in repr(PseudonymKey(b"secret-key-0123456789"))


def test_short_pseudonym_key_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        PseudonymKey(b"short")


def test_surrogates_are_consistent_per_conversation() -> None:
    policy = Policy(default_operator=Surrogate())
    state = OperatorState(surrogates=SurrogateMap())
    first = redact("je m'appelle Zorvan Quelibrand", "fr", policy, state=state).text
    again = redact("mon nom est Zorvan Quelibrand", "fr", policy, state=state).text
    other = redact("je m'appelle Talvorn Brixendale", "fr", policy, state=state).text
    assert first.endswith("<PERSON_1>")
    assert again.endswith("<PERSON_1>")
    assert other.endswith("<PERSON_2>")


def test_surrogate_map_is_bounded() -> None:
    m = SurrogateMap(max_entries=3)
    for i in range(10):
        m.number("PERSON", f"name {i}")
    assert len(m) == 3


class FakeVault:
    def __init__(self) -> None:
        self.store: dict[str, str] = {}

    def tokenize(self, tenant: TenantId, label: str, value: str) -> str:
        token = f"<TOK_{len(self.store) + 1}>"
        self.store[token] = value
        return token

    def detokenize(self, tenant: TenantId, token: str) -> str:
        return self.store[token]


def test_tokenize_operator_uses_the_vault_interface() -> None:
    vault = FakeVault()
    assert isinstance(vault, TokenVault)
    state = OperatorState(tenant=TenantId("t1"), vault=vault)
    out = redact(f"carte {CARD}", "fr", Policy(default_operator=Tokenize()), state=state)
    token = out.replacements[0].replacement
    assert vault.detokenize(TenantId("t1"), token) == CARD


def test_policy_from_configuration_with_custom_entity() -> None:
    policy = Policy.from_mapping(
        {
            "entities": ["CARD_NUMBER", "CUSTOMER_ACCOUNT"],
            "operators": {
                "CARD_NUMBER": {"kind": "mask", "keep_last": 4},
                "default": {"kind": "tag"},
            },
            "custom": [
                {"label": "CUSTOMER_ACCOUNT", "pattern": r"CL-?\d{8}", "context": ["numéro client"]}
            ],
        }
    )
    out = redact(f"numéro client CL-12345678, carte {CARD}, tél 06 12 34 56 78", "fr", policy)
    assert (
        out.text == "numéro client [CUSTOMER_ACCOUNT], carte ************1111, tél 06 12 34 56 78"
    )


def test_custom_entity_with_required_context_and_checksum() -> None:
    policy = Policy.from_mapping(
        {
            "custom": [
                {
                    "label": "LOYALTY",
                    "pattern": r"\b\d{8}\b",
                    "context": ["fidélité"],
                    "context_required": True,
                    "checksum": "luhn",
                }
            ]
        }
    )
    assert redact("carte fidélité 12345674", "fr", policy).text == "carte fidélité [LOYALTY]"
    assert redact("carte fidélité 12345675", "fr", policy).text == "carte fidélité 12345675"
    assert redact("colis 12345674", "fr", policy).text == "colis 12345674"


@pytest.mark.parametrize(
    "config",
    [
        {"entities": ["NOPE"]},
        {"operators": {"CARD_NUMBER": {"kind": "rot13"}}},
        {"operators": {"CARD_NUMBER": {"kind": "mask", "keep_everything": True}}},
        {"custom": [{"label": "bad label", "pattern": "x"}]},
        {"custom": [{"label": "X_ID", "pattern": "("}]},
        {"surprise": 1},
        {"min_score": 2},
    ],
)
def test_invalid_policies_are_refused(config: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Policy.from_mapping(config)


def test_keep_original_only_when_the_policy_says_so() -> None:
    assert redact(f"carte {CARD}", "fr").original is None
    assert redact(f"carte {CARD}", "fr", Policy(keep_original=True)).original == f"carte {CARD}"


class Exploding:
    id = "boom"
    entities = frozenset({"PERSON"})
    languages = frozenset({"fr", "en"})

    def find(self, doc: object) -> list[object]:
        raise RuntimeError("recognizer crashed")


def test_fail_closed_blocks_instead_of_delivering_in_clear() -> None:
    engine = Engine(recognizers=[Exploding()])  # type: ignore[list-item]
    out = engine.redact(f"carte {CARD}", "fr", DEFAULT_POLICY)
    assert out.blocked
    assert out.text == BLOCKED_TEXT
    assert CARD not in out.text


def test_fail_open_policy_raises_instead() -> None:
    engine = Engine(recognizers=[Exploding()])  # type: ignore[list-item]
    with pytest.raises(RedactionError):
        engine.redact(f"carte {CARD}", "fr", Policy(fail_closed=False))


def test_text_over_the_size_limit_is_blocked() -> None:
    assert redact("x" * 100, "fr", Policy(max_chars=10)).blocked


def test_pseudonym_without_key_fails_closed() -> None:
    out = redact(f"carte {CARD}", "fr", Policy(default_operator=Pseudonym()))
    assert out.blocked
