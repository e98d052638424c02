"""Calling other services over HTTP, for whoever calls them: the destinations (ActiveCampaign, EcartAPI), the
store-API readers of the platforms, and `check`. Below both of them, so neither imports the other."""
