"""Reading documents: one small reader per format, the sentence splitter, PDF page geometry
and OCR."""
