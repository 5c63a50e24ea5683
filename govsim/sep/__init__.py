"""A demo service provider of the simulated NIA: "Portál občana (simulace)".

A service as a ministry would run it, signing people in through NIA with python3-saml while NIA
itself is built on pysaml2 (`govsim.nia`). No models: its registration at NIA is a
`govsim.nia.models.ServiceProvider` (`services.ensure_registered`), its state the session's.
"""
