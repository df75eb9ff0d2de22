"""What the panel's pages share: an add page that calls a service, confirmations, upstream errors as messages."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from bots.hummingbot.errors import HummingbotError


def object_or_404(model_or_queryset, object_id: str):
    """The object a panel URL names: 404 for an id its key cannot hold ("abc", "1\\x00") as for one no row has."""
    queryset = model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    try:
        pk = queryset.model._meta.pk.to_python(object_id)
    except ValidationError:
        raise Http404(f"No {queryset.model._meta.verbose_name} has the id {object_id!r}.") from None
    return get_object_or_404(queryset, pk=pk)


def _upstream_error(request, exc: HummingbotError):
    messages.error(request, f"Hummingbot: {exc.message}")


class ReadOnlyAdmin:
    """Records written by services only (the ledger, the audit trail, kill-switch runs): nobody adds, edits or
    deletes them in the panel."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceAddMixin:
    """The add page calls one service (which talks to Hummingbot and audits) instead of saving a form."""

    add_form = add_title = add_intro = None
    add_template = "admin/bots/service_form.html"

    def create(self, request, data):
        raise NotImplementedError

    def created_message(self, obj) -> str:
        raise NotImplementedError

    def kept_after_failure(self, data):
        """An object the service keeps despite an upstream failure, to show instead of the form."""
        return None

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        # GET parameters prefill the form, as on Django's own add pages (Clone… links to the add page with them).
        form = self.add_form(request.POST or None, initial=self.get_changeform_initial_data(request))
        if request.method == "POST" and form.is_valid():
            try:
                obj = self.create(request, form.cleaned_data)
            except ValidationError as exc:
                _add_form_errors(form, exc)
            except HummingbotError as exc:
                _upstream_error(request, exc)
                obj = self.kept_after_failure(form.cleaned_data)
                if obj is not None:
                    return redirect(self._change_url(obj))
            else:
                messages.success(request, self.created_message(obj))
                for warning in getattr(form, "warnings", []):
                    messages.warning(request, warning)
                return redirect(self._change_url(obj))
        return self._add_page(request, form)

    def _add_page(self, request, form):
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": self.add_title, "intro": self.add_intro}
        return TemplateResponse(request, self.add_template, context)

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# A bulk action names what it acts on; past this many, the first ones and how many more (a page stays readable).
NAMED_AT_MOST = 20


def _confirm(model_admin, request, queryset, action, question):
    """A bulk action's confirmation: the question, then what it acts on, by name."""
    objects = list(queryset)
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "queryset": objects,
               "action": action, "question": question, "title": "Please confirm",
               "named": objects[:NAMED_AT_MOST], "more": max(0, len(objects) - NAMED_AT_MOST),
               "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
    return TemplateResponse(request, "admin/bots/confirm_action.html", context)


def _named(names: list[str]) -> str:
    """'a, b, c', or the first NAMED_AT_MOST and 'and N more'."""
    shown = ", ".join(names[:NAMED_AT_MOST])
    return f"{shown} and {len(names) - NAMED_AT_MOST} more" if len(names) > NAMED_AT_MOST else shown


def _run_url(run) -> str:
    return reverse("admin:bots_killswitchrun_change", args=[run.pk])


def _add_form_errors(form, exc: ValidationError):
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    request_field = getattr(form, "request_field", lambda name: name if name in form.fields else None)
    for field, errors in exc.message_dict.items():
        form.add_error(request_field(field), errors)
