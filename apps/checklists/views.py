from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.tenants.access import (
    get_template_for,
    get_template_item_for,
    get_template_stage_for,
    templates_of,
    workspaces_of,
)

from .forms import ItemMoveForm, TemplateCopyForm, TemplateItemForm, TemplateRenameForm
from .models import ChecklistTemplate, TemplateItem

FORM_PAGE = "sprints/form_page.html"


def _detail_url(template):
    return reverse("checklists:detail", kwargs={"checklisttemplate_id": template.pk})


@login_required
def template_list(request):
    """The current system roadmap plus the templates of the user's workspaces (consultants only)."""
    if not workspaces_of(request.user).exists():
        raise Http404
    default = ChecklistTemplate.default()
    templates = (
        templates_of(request.user).filter(Q(workspace__isnull=False) | Q(pk=default.pk))
        .select_related("workspace", "based_on").annotate(item_count=Count("stages__items"))
        .order_by("workspace__name", "name")
    )
    return render(request, "checklists/template_list.html", {"templates": templates})


@login_required
def template_detail(request, checklisttemplate_id):
    template, _ = get_template_for(request, checklisttemplate_id)
    stages = template.stages.prefetch_related(Prefetch("items", queryset=TemplateItem.objects.order_by("position")))
    copy_form = TemplateCopyForm(workspaces=workspaces_of(request.user), template=template)
    return render(request, "checklists/template_detail.html", {
        "template": template, "stages": stages, "can_edit": not template.is_system, "copy_form": copy_form,
    })


@login_required
def template_copy(request, checklisttemplate_id):
    template, _ = get_template_for(request, checklisttemplate_id)
    form = TemplateCopyForm(request.POST or None, workspaces=workspaces_of(request.user), template=template)
    if request.method == "POST" and form.is_valid():
        copy = template.copy_to(form.cleaned_data["workspace"], name=form.cleaned_data["name"])
        messages.success(request, f"Copied into {copy.workspace.name}. Edits to the copy never touch running sprints.")
        return redirect(_detail_url(copy))
    return render(request, FORM_PAGE, {
        "heading": f"Copy “{template.name}” into a workspace", "form": form, "submit": "Copy",
        "cancel_url": _detail_url(template),
    })


@login_required
def template_rename(request, checklisttemplate_id):
    template, _ = get_template_for(request, checklisttemplate_id, editable=True)
    form = TemplateRenameForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            template.rename(form.cleaned_data["name"])
        return redirect(_detail_url(template))
    return render(request, FORM_PAGE, {
        "heading": "Rename the template", "form": form, "submit": "Save", "cancel_url": _detail_url(template),
    })


@login_required
def item_new(request, templatestage_id):
    stage, _ = get_template_stage_for(request, templatestage_id)
    form = TemplateItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        stage.add_item(**form.cleaned_data)
        return redirect(_detail_url(stage.template) + f"#stage-{stage.number}")
    return render(request, FORM_PAGE, {
        "heading": f"Add an item to stage {stage}", "form": form, "submit": "Add the item",
        "cancel_url": _detail_url(stage.template),
    })


@login_required
def item_edit(request, templateitem_id):
    item, _ = get_template_item_for(request, templateitem_id)
    form = TemplateItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            form.save(commit=False).save_edit()
        return redirect(_detail_url(item.template) + f"#stage-{item.stage.number}")
    return render(request, FORM_PAGE, {
        "heading": "Edit the item", "form": form, "submit": "Save", "cancel_url": _detail_url(item.template),
    })


@login_required
def item_delete(request, templateitem_id):
    item, _ = get_template_item_for(request, templateitem_id)
    template = item.template
    if request.method == "POST":
        item.remove()
        messages.success(request, f"Removed “{item.title}”.")
        return redirect(_detail_url(template))
    return render(request, FORM_PAGE, {
        "heading": f"Remove “{item.title}” from the template?", "form": forms.Form(), "submit": "Remove",
        "cancel_url": _detail_url(template),
    })


@login_required
def item_move(request, templateitem_id):
    item, _ = get_template_item_for(request, templateitem_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ItemMoveForm(request.POST)
    if not form.is_valid():
        return render(request, FORM_PAGE, {
            "heading": f"Move “{item.title}”", "form": form, "submit": "Move",
            "cancel_url": _detail_url(item.template),
        }, status=400)
    item.move(form.cleaned_data["direction"])
    return redirect(_detail_url(item.template) + f"#item-{item.pk}")
