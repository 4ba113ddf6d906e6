"""A template loader that inlines the email stylesheet once, when a template loads.

Email programs ignore most <style> blocks, so every element of an HTML email
needs its style attribute. Writing them by hand is unreadable, inlining each
message is slow: this loader inlines `templates/emails/email.css` into the
HTML email templates as they are read (css-inline), and Django's cached
loader keeps the result, so each template is inlined once per process. The
@media rules (dark mode, small screens) cannot be inlined and stay in the
<style> block of emails/base.html.
"""

from functools import cache
from pathlib import Path

import css_inline
from django.template import Origin
from django.template.loaders.filesystem import Loader as FilesystemLoader

STYLESHEET = Path(__file__).resolve().parent.parent / "templates" / "emails" / "email.css"


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=True, extra_css=STYLESHEET.read_text())


def inline(source: str) -> str:
    """`source` with the email stylesheet in style attributes; whole documents or fragments."""
    inliner = _inliner()
    if source.lstrip().lower().startswith("<!doctype"):
        return inliner.inline(source)
    return css_inline.inline_fragment(source, STYLESHEET.read_text())


class Loader(FilesystemLoader):
    def get_contents(self, origin: Origin) -> str:
        contents = super().get_contents(origin)
        name = origin.template_name or ""
        if name.startswith("emails/") and name.endswith(".html"):
            return inline(contents)
        return contents
