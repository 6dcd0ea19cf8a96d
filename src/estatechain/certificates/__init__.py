"""Electronic registration certificates (电子不动产登记证明): record, PDF, signatures, verification.

``record`` builds the signed record from the register, ``document`` the certificate file with its
ledger evidence, ``pdf`` the A4 form with QR code and PAdES signature, ``verify`` (with ``pdf_check``)
checks a file offline against genesis and reports each step as a code of ``check_codes``, ``desk``
is the registry node's side (its kept copies sealed at rest by ``archive``) and ``lookups`` guards
the public verification endpoint. ``docs/certificates.md`` documents the formats.
"""
