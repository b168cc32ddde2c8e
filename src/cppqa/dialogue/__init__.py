"""Follow-ups: checking a question, and resolving it against the conversation before it is
searched."""
