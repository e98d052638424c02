"""Load-side schemas for Shopify's REST webhook payloads (checkout, order, refund); webhook_mapping.py maps what
they load to canonical candidates."""

from __future__ import annotations

from marshmallow import fields

from bridge.platforms.fields import (
    Amount,
    IdString,
    PlatformSchema,
    Quantity,
    UTCDateTime,
    discount_list,
    item_list,
    optional,
)


class ShopifyCustomerSchema(PlatformSchema):
    id = optional(IdString())
    email = optional(fields.String())
    first_name = optional(fields.String())
    last_name = optional(fields.String())
    phone = optional(fields.String())
    accepts_marketing = optional(fields.Boolean())
    email_marketing_consent = optional(fields.Dict())


class ShopifyAddressSchema(PlatformSchema):
    first_name = optional(fields.String())
    last_name = optional(fields.String())
    phone = optional(fields.String())


class ShopifyLineItemSchema(PlatformSchema):
    id = optional(IdString())
    product_id = optional(IdString())
    variant_id = optional(IdString())
    key = optional(fields.String())
    sku = optional(fields.String())
    title = optional(fields.String())
    name = optional(fields.String())
    variant_title = optional(fields.String())
    vendor = optional(fields.String())
    price = Amount(required=True)
    quantity = Quantity(required=True)


class ShopifyDiscountCodeSchema(PlatformSchema):
    code = optional(fields.String())
    amount = Amount(required=True)
    type = optional(fields.String())


class ShopifyShippingLineSchema(PlatformSchema):
    title = optional(fields.String())
    code = optional(fields.String())
    price = optional(Amount())


class _ShopifyPurchase(PlatformSchema):
    """Fields checkouts and orders share."""

    currency = fields.String(required=True)
    email = optional(fields.String())
    phone = optional(fields.String())
    created_at = optional(UTCDateTime())
    updated_at = optional(UTCDateTime())
    buyer_accepts_marketing = optional(fields.Boolean())
    billing_address = optional(fields.Nested(ShopifyAddressSchema))
    shipping_address = optional(fields.Nested(ShopifyAddressSchema))
    subtotal_price = optional(Amount())
    total_price = optional(Amount())
    total_tax = optional(Amount())
    total_discounts = optional(Amount())
    customer = optional(fields.Nested(ShopifyCustomerSchema))
    line_items = item_list(ShopifyLineItemSchema)
    discount_codes = discount_list(ShopifyDiscountCodeSchema)
    shipping_lines = discount_list(ShopifyShippingLineSchema)


class ShopifyCheckoutSchema(_ShopifyPurchase):
    id = optional(IdString())
    token = IdString(required=True)
    cart_token = optional(IdString())
    abandoned_checkout_url = optional(fields.String())
    completed_at = optional(UTCDateTime())


# Built once: a schema instance holds no per-load state, and building one (with its nested schemas) costs
# more than the load itself.
SHOPIFY_CHECKOUT_SCHEMA = ShopifyCheckoutSchema()


class ShopifyOrderSchema(_ShopifyPurchase):
    id = IdString(required=True)
    order_number = optional(IdString())
    name = optional(fields.String())
    contact_email = optional(fields.String())
    checkout_token = optional(IdString())
    order_status_url = optional(fields.String())
    processed_at = optional(UTCDateTime())
    cancelled_at = optional(UTCDateTime())


SHOPIFY_ORDER_SCHEMA = ShopifyOrderSchema()


class ShopifyRefundTransactionSchema(PlatformSchema):
    amount = Amount(required=True)
    kind = optional(fields.String())
    status = optional(fields.String())
    currency = optional(fields.String())


class ShopifyRefundLineSchema(PlatformSchema):
    quantity = Quantity(required=True)
    subtotal = optional(Amount())
    total_tax = optional(Amount())
    subtotal_set = optional(fields.Dict())
    line_item = optional(fields.Nested(ShopifyLineItemSchema))


class ShopifyRefundSchema(PlatformSchema):
    id = IdString(required=True)
    order_id = IdString(required=True)
    created_at = optional(UTCDateTime())
    processed_at = optional(UTCDateTime())
    currency = optional(fields.String())
    total_set = optional(fields.Dict())
    total_duties_set = optional(fields.Dict())
    transactions = discount_list(ShopifyRefundTransactionSchema)
    refund_line_items = item_list(ShopifyRefundLineSchema)


SHOPIFY_REFUND_SCHEMA = ShopifyRefundSchema()
