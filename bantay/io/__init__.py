"""Bantay's output root: the catalogue of datasets (`catalogue`) and the helpers that read and write them
(`files`), and the lock that keeps one writer per output root (`lock`)."""
