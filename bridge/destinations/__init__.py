"""Destination clients: ActiveCampaign Deep Data and EcartAPI, over one shared HTTP layer."""
