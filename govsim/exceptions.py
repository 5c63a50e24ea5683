"""What can go wrong in the simulator's own operations, free of HTTP."""


class MissingPortalKey(Exception):
    """Under production settings the portal's key at a simulated system must be configured: the
    development keys are public."""

    def __init__(self, setting: str):
        super().__init__(f"{setting} is not set")
        self.setting = setting
