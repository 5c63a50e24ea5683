"""The simulated data box system (ISDS): boxes, authorised persons, messages."""
