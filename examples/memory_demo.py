"""The old my_llm memory demo, unchanged, running on the embedded model.

Run from anywhere: ``python examples/memory_demo.py``. Messages go to
$MESSAGE_HISTORY (or the default folder), Pub/Sub when configured, and Chroma.
"""

import os
from pathlib import Path

from my_llm.models import get_chat_model

os.chdir(Path(__file__).resolve().parent)  # so chatgpt_export/conversations.json is found
chat = get_chat_model("local")

# --- the script from the issue, as written ---
import my_llm.standards as my_llm  # noqa: E402
from my_llm.langchain_class import PubSubChatMessageHistory  # noqa: E402

memory = PubSubChatMessageHistory("debugger")
memory.clear()
prompt = "How many ways are there to travel between the north pole and Copenhagen directly? Also output a random animal with prefix: ANIMAL:"
answer = my_llm.request_llm(prompt, chat, memory)
answer2 = my_llm.request_llm(f"Repeat the answer below but in Danish:\n{answer}", chat, memory)
summary = memory.apply_summarise_to_memory()
memory.save_vectorstore_memory()
print(memory.question_memory("What random animal have you said?"))
memory.load_chatgpt_export("chatgpt_export/conversations.json")
