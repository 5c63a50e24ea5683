"""Second factors: FIDO security keys and the MojeID Klíč app (built in later issues)."""
