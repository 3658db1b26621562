"""Bantay's output root: the catalogue of datasets (`catalogue`) and the helpers that read and write them
(`files`)."""
