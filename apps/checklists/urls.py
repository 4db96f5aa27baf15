from django.urls import path

from . import views

app_name = "checklists"

urlpatterns = [
    path("", views.template_list, name="list"),
    path("<uuid:checklisttemplate_id>/", views.template_detail, name="detail"),
    path("<uuid:checklisttemplate_id>/copy/", views.template_copy, name="copy"),
    path("<uuid:checklisttemplate_id>/rename/", views.template_rename, name="rename"),
    path("stages/<uuid:templatestage_id>/items/new/", views.item_new, name="item_new"),
    path("items/<uuid:templateitem_id>/edit/", views.item_edit, name="item_edit"),
    path("items/<uuid:templateitem_id>/delete/", views.item_delete, name="item_delete"),
    path("items/<uuid:templateitem_id>/move/", views.item_move, name="item_move"),
]
