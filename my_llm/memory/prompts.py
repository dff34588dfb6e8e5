"""Every prompt the memory uses, in one place, so wording changes are reviewed together."""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate

SUMMARISE_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You write short, factual summaries of conversations between a user and an AI "
            "assistant. Keep names, numbers, code identifiers and decisions. Do not invent "
            "anything that is not in the conversation.",
        ),
        (
            "human",
            "Summarise this conversation in at most {max_words} words.\n\n"
            "<conversation>\n{conversation}\n</conversation>",
        ),
    ]
)

QUESTION_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You answer questions about past conversations using only the excerpts given. "
            "Each excerpt is marked [n] with who said it and when. Cite the excerpts you use "
            "as [n]. If the excerpts do not contain the answer, say you don't know.",
        ),
        ("human", "Excerpts from past conversations:\n\n{context}\n\nQuestion: {question}"),
    ]
)

ROLE_LABELS = {"human": "User", "ai": "Assistant", "system": "System", "tool": "Tool"}


def label(role: str) -> str:
    return ROLE_LABELS.get(role, role.capitalize() or "Unknown")
