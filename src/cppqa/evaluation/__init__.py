"""Measuring: `cppqa eval` (the project's QA set, SQuAD articles, conversations, feedback)
and `cppqa bench`."""
