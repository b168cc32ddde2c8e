"""Datasets the system learns from and is measured on: SQuAD files and their official
scoring, question files, the feedback log."""
