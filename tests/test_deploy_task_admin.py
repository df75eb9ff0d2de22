"""django-q2's admin runs any importable function: only superusers see it, and schedules are never edited there."""
import pytest
from django.contrib.auth.models import Permission

pytestmark = pytest.mark.django_db

TASK_PAGES = ["/admin/django_q/success/", "/admin/django_q/failure/", "/admin/django_q/ormq/",
              "/admin/django_q/schedule/"]


@pytest.fixture
def staff_with_every_task_permission(client, django_user_model):
    user = django_user_model.objects.create_user("ops", password="pw-ops-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_q"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", [*TASK_PAGES, "/admin/django_q/schedule/add/"])
def test_staff_with_every_django_q_permission_is_refused_the_task_pages(staff_with_every_task_permission, page):
    assert staff_with_every_task_permission.get(page).status_code == 403


def test_the_task_app_is_not_on_the_staff_index(staff_with_every_task_permission):
    assert "django_q" not in staff_with_every_task_permission.get("/admin/").content.decode()


def test_superuser_reads_tasks_and_schedules_but_cannot_add_or_edit_a_schedule(admin_client):
    from django_q.models import Schedule

    schedule = Schedule.objects.create(func="bots.tasks.sync_bots", schedule_type=Schedule.MINUTES, minutes=1)
    for page in TASK_PAGES:
        assert admin_client.get(page).status_code == 200
    assert admin_client.get("/admin/django_q/schedule/add/").status_code == 403
    edit = admin_client.post(f"/admin/django_q/schedule/{schedule.pk}/change/",
                             {"func": "os.getenv", "args": "'HUMMINGBOT_API_PASSWORD'", "schedule_type": "O"})
    assert edit.status_code == 403
    schedule.refresh_from_db()
    assert schedule.func == "bots.tasks.sync_bots"
