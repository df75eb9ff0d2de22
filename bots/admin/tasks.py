"""django-q2's admin pages, locked down: a task or schedule names any importable function (a schedule of
`os.getenv` showed secrets on its success page), so only superusers see them and schedules are read-only:
they come from `manage.py setup_schedules` alone."""
from django.contrib import admin
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


class ReadOnlySchedule:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


LOCKED = {
    Success: (SuperuserOnly, q_admin.TaskAdmin),
    Failure: (SuperuserOnly, q_admin.FailAdmin),
    OrmQ: (SuperuserOnly, q_admin.QueueAdmin),
    Schedule: (ReadOnlySchedule, SuperuserOnly, q_admin.ScheduleAdmin),
}

for model, bases in LOCKED.items():
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, type(f"Locked{bases[-1].__name__}", bases, {}))
