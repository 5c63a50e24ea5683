"""The link to NIA, the national identity hub (built in later issues)."""
