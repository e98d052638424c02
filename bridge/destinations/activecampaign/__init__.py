"""ActiveCampaign Deep Data (API v3): connections, ecomCustomers, ecomOrders."""
