"""The message memory: the JSONL log (the system of record), the outbox to Pub/Sub, the Chroma
index, ChatGPT export import, and `PubSubChatMessageHistory` (history.py) over all of them."""
