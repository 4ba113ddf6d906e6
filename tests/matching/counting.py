"""How many papers the engine analyses from their text: for tests that show it does not."""

from digest.matching.evaluate import AnalyzedDocument


def count_analyses(monkeypatch, *modules) -> list[str]:
    """The ids of the papers analysed from their text from now on, in order, by the
    AnalyzedDocument of each of `modules` (engine, stored...)."""
    made: list[str] = []

    class Counted(AnalyzedDocument):
        def __init__(self, document, concepts):
            made.append(document.id)
            super().__init__(document, concepts)

    for module in modules:
        monkeypatch.setattr(module, "AnalyzedDocument", Counted)
    return made
