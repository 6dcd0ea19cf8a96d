"""Consortium membership: genesis config, org types and roles, certificates, revocation."""
