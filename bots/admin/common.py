"""What the panel's pages share: an add page that calls a service, confirmations, upstream errors as messages."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from bots.hummingbot.errors import HummingbotError


def _upstream_error(request, exc: HummingbotError):
    messages.error(request, f"Hummingbot: {exc.message}")


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
        form = self.add_form(request.POST or None)
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


def _confirm(model_admin, request, queryset, action, question):
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "queryset": queryset,
               "action": action, "question": question, "title": "Please confirm",
               "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
    return TemplateResponse(request, "admin/bots/confirm_action.html", context)


def _run_url(run) -> str:
    return reverse("admin:bots_killswitchrun_change", args=[run.pk])


def _add_form_errors(form, exc: ValidationError):
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    request_field = getattr(form, "request_field", lambda name: name if name in form.fields else None)
    for field, errors in exc.message_dict.items():
        form.add_error(request_field(field), errors)
