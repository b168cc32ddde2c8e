"""Teaching the reader: the example stream, the training loop, adaptation to a corpus;
never imported when answering."""
