"""Text folding for search: case- and accent-insensitive for Latin script, Khmer left intact."""

import unicodedata


def fold(text: str) -> str:
    """Lower-case and strip accents from Latin letters ("Pygmy Slow Lorís" → "pygmy slow loris").

    Only marks that sit on a Latin letter are dropped: Khmer vowel signs are
    combining marks too, and removing them would change the word.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    base_is_latin = False
    for char in decomposed:
        if unicodedata.combining(char):
            if base_is_latin:
                continue
        else:
            base_is_latin = char < "\u0250"
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).strip()
