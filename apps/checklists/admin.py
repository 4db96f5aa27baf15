from django.contrib import admin

from .models import ChecklistTemplate, SprintItem, TemplateItem, TemplateStage


class TemplateStageInline(admin.TabularInline):
    model = TemplateStage
    extra = 0


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "workspace", "created_at"]
    inlines = [TemplateStageInline]


@admin.register(TemplateItem)
class TemplateItemAdmin(admin.ModelAdmin):
    list_display = ["title", "stage", "check_id", "severity"]
    list_filter = ["severity"]


@admin.register(SprintItem)
class SprintItemAdmin(admin.ModelAdmin):
    list_display = ["title", "sprint", "stage_number", "status", "check_id", "updated_at"]
    list_filter = ["status", "stage_number"]
    raw_id_fields = ["sprint", "updated_by"]
