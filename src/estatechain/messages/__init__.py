"""The shared message catalogue: zh-CN and en texts for every stable code (design §3.21)."""

from estatechain.messages.catalogue import LOCALES, UNKNOWN_CODE, has_text, message, normalise_locale, texts

__all__ = ["LOCALES", "UNKNOWN_CODE", "has_text", "message", "normalise_locale", "texts"]
