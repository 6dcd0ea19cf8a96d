"""The one error body every failure uses."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """``{"error": code, "message": ..., "detail": {...}}``."""

    error: str = Field(description="Stable machine-readable code, e.g. NON_CANONICAL, REPLAYED, V13_UNIT_SEIZED.")
    message: str = Field(description="What went wrong and how to fix it (English, or zh-CN on request).")
    detail: dict[str, str] = Field(description="The offending field or values, by name.")
