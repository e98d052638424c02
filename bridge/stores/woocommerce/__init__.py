"""WooCommerce: the REST API v3 (`/wp-json/wc/v3/orders`)."""
