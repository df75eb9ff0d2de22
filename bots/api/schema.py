"""The OpenAPI schema says what validation enforces, so clients and schemathesis see the real contract."""
from drf_spectacular.openapi import AutoSchema

from bots.api.serializers import StrictKeysMixin


class StrictAutoSchema(AutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if isinstance(serializer, StrictKeysMixin):
            schema["additionalProperties"] = False  # unknown keys are refused with 400
        return schema
