"""Live conversations: context from the previous turn, digits split across messages."""

from __future__ import annotations

from rempart.redaction import Policy, Surrogate
from rempart.redaction.stream import ConversationRedactor


def test_agent_question_gives_context_to_the_answer() -> None:
    conv = ConversationRedactor(lang="fr")
    conv.push("quelle est votre date de naissance ?", role="agent")
    assert conv.push("le quatre juillet mille neuf cent soixante-dix-neuf").redacted.text == (
        "le [DATE_OF_BIRTH]"
    )
    # Without the question, a date is just a date.
    fresh = ConversationRedactor(lang="fr")
    assert fresh.push("le quatre juillet mille neuf cent soixante-dix-neuf").redacted.spans == []


def test_card_number_split_over_messages_is_joined_and_validated() -> None:
    conv = ConversationRedactor(lang="fr")
    conv.push("je vais vous demander votre numéro de carte", role="agent")
    first = conv.push("4111 1111", message_id="m1")
    second = conv.push("1111 1111", message_id="m2")
    # The first half answered a card question: it is already hidden.
    assert first.redacted.text == "[CARD_NUMBER]"
    assert second.redacted.text == "[CARD_NUMBER]"
    assert all(a.message_id == "m1" for a in second.amendments)


def test_split_digits_without_question_are_amended_once_validated() -> None:
    conv = ConversationRedactor(lang="en")
    first = conv.push("4111 1111 1111", message_id="a")
    assert first.redacted.spans == []
    second = conv.push("1111 thanks", message_id="b")
    assert second.redacted.text == "[CARD_NUMBER] thanks"
    assert [(a.message_id, a.span.label) for a in second.amendments] == [("a", "CARD_NUMBER")]
    assert second.amendments[0].span.start == 0
    assert second.amendments[0].span.end == 14


def test_unrelated_numbers_are_not_joined() -> None:
    conv = ConversationRedactor(lang="en")
    conv.push("I ordered 3", message_id="a")
    result = conv.push("4 of them arrived", message_id="b")
    assert result.amendments == []
    assert result.redacted.spans == []


def test_state_stays_bounded_over_a_long_conversation() -> None:
    conv = ConversationRedactor(lang="fr", policy=Policy(default_operator=Surrogate()))
    for i in range(2000):
        conv.push(f"{i % 10} {i % 7}", message_id=str(i))
    assert len(conv._pending) <= 4
    assert sum(len(p.digits) for p in conv._pending) <= 40


def test_surrogates_stay_consistent_across_messages() -> None:
    conv = ConversationRedactor(lang="fr", policy=Policy(default_operator=Surrogate()))
    a = conv.push("je m'appelle Zorvan Quelibrand").redacted.text
    b = conv.push("oui c'est bien moi, mon nom est Zorvan Quelibrand").redacted.text
    assert a.endswith("<PERSON_1>")
    assert b.endswith("<PERSON_1>")
