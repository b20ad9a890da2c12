"""Providers: embedders and LLMs behind small seams."""
