"""Pages for facilities, enclosures and the species catalogue; shared helpers of their tests."""

import re


def error_next_to(html: str, field: str, message: str) -> bool:
    """True when `message` is shown in the same form group as the input named `field`."""
    pattern = rf'name="{field}"(?:(?!<div class="mb-3).)*?invalid-feedback[^>]*>{re.escape(message)}'
    return re.search(pattern, html, re.S) is not None
