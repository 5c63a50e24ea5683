"""The simulated NIA: a SAML 2.0 identity provider (eObčanka) and its identity-means API."""
