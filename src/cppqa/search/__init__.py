"""Finding passages: the embedder (the only place the sentence model loads), the FAISS,
Milvus and BM25 stores, fusion, the index as one object, retrieval."""
