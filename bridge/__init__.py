"""storebridge: store webhooks in, ActiveCampaign Deep Data and EcartAPI calls out, durably."""

__version__ = "0.1.0"
