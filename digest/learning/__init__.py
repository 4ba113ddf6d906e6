"""PURE PYTHON, no Django: a per-reader model that learns from "more / less like this"
and the papers a reader follows (representation -> reader -> rank)."""
