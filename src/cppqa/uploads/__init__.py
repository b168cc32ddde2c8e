"""Files users bring: a per-client corpus of uploaded files with its own index and answers,
and the hygiene of their names and folders."""
