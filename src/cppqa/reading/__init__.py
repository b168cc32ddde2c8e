"""Reading a window: the span reader (verified weights; start, end and no-answer logits)
and the pure functions that turn them into spans and a calibrated confidence."""
