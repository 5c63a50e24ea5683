"""Second factors: FIDO security keys and the MojeID Klíč app.

So far: the FIDO metadata store (`twofactor.metadata`), filled by `load_fido_metadata`.
"""
