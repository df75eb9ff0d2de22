from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bots import services


class HealthView(APIView):
    """Open to load balancers; says only whether each dependency answers."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        report = services.system_health()
        return Response(report, status=200 if report["ok"] else 503)
