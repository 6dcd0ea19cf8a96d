"""Evidence packages: export a self-contained, offline-verifiable file for a court (docs/evidence.md)."""
