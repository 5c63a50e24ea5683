"""The Czech POINT clerk's desk of the simulated government (built in a later issue)."""
