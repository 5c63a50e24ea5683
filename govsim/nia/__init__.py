"""The simulated NIA: a SAML 2.0 identity provider (eObčanka) and its back-channel for
qualified identity providers."""
