"""Callbacks that run losstest's Monitor inside training frameworks (optional extras: losstest
itself never imports transformers or lightning)."""
