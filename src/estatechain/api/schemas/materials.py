"""Body of a material upload's answer: what a transaction references."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MaterialOut(BaseModel):
    """Reference a material in a filing with exactly these three fields (and its type code)."""

    sha256: str = Field(description="Hex SHA-256 of the bytes: the material's address.")
    size: int = Field(description="Size in bytes.")
    media_type: str = Field(description="Sniffed from the content: application/pdf, image/jpeg or image/png.")
