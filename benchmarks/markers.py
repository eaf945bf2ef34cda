"""Generated parts of Markdown pages: the text between two HTML-comment markers, rewritten by a script."""


def marked(page: str, start: str, end: str) -> str | None:
    """The text between the markers (without them or the newlines next to them); None when one is missing."""
    if start not in page or end not in page:
        return None
    return page.split(start, 1)[1].split(end, 1)[0].strip("\n")


def with_marked(page: str, start: str, end: str, text: str) -> str:
    """The page with `text` between the markers instead of what was there."""
    before, rest = page.split(start, 1)
    return before + start + "\n" + text + "\n" + end + rest.split(end, 1)[1]
