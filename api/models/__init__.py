"""Every table of the live shell; importing this package fills `SQLModel.metadata`.

One SQLModel family per entity (full-stack-fastapi-template): `XBase` holds
the shared fields, `XCreate` what a client sends, `X` (table=True) the row,
`XPublic` what the API returns.
"""

from api.models.access import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyPublic,
    OperatorAccount,
    OperatorAccountCreate,
    OperatorAccountPublic,
    Role,
)
from api.models.calls import Call, CallCreate, CallOutcome, CallPublic
from api.models.care import CustomerFlagEvent, CustomerFlagEventPublic
from api.models.cluster import ClusterCommand, ClusterTerm
from api.models.columns import UtcDateTime, epoch_s, from_epoch_s, new_id, utc_now
from api.models.customers import (
    Customer,
    CustomerCreate,
    CustomerPublic,
    Phone,
    PhoneCreate,
    PhonePublic,
    PickupAddress,
    PickupAddressCreate,
    PickupAddressPublic,
    address_key,
)
from api.models.drivers import Driver, DriverCreate, DriverPublic
from api.models.orders import (
    AppendOnlyError,
    Order,
    OrderCreate,
    OrderEvent,
    OrderEventCreate,
    OrderEventPublic,
    OrderPublic,
    order_view,
    to_core_order,
)

__all__ = [
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyPublic",
    "AppendOnlyError",
    "Call",
    "CallCreate",
    "CallOutcome",
    "CallPublic",
    "ClusterCommand",
    "ClusterTerm",
    "Customer",
    "CustomerCreate",
    "CustomerFlagEvent",
    "CustomerFlagEventPublic",
    "CustomerPublic",
    "Driver",
    "DriverCreate",
    "DriverPublic",
    "OperatorAccount",
    "OperatorAccountCreate",
    "OperatorAccountPublic",
    "Order",
    "OrderCreate",
    "OrderEvent",
    "OrderEventCreate",
    "OrderEventPublic",
    "OrderPublic",
    "Phone",
    "PhoneCreate",
    "PhonePublic",
    "PickupAddress",
    "PickupAddressCreate",
    "PickupAddressPublic",
    "Role",
    "UtcDateTime",
    "address_key",
    "epoch_s",
    "from_epoch_s",
    "new_id",
    "order_view",
    "to_core_order",
    "utc_now",
]
