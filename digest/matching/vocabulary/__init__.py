"""The derived part of the engine's vocabulary: a concept graph taken from public
vocabularies (UAT, PhySH, MeSH) and a reviewed hand-written part, written by
`build.py` into `digest/matching/concepts_derived.toml`. See README.md here.

Nothing here runs when the engine runs: `concepts.py` reads only the TOML file.
"""
