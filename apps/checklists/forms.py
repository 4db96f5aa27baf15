from django import forms
from django.core.validators import RegexValidator

from .models import ChecklistTemplate, TemplateItem

check_id_format = RegexValidator(
    r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$",
    "Use a check id like tls.certificate (lowercase words joined by dots), or leave it empty for a manual item.",
)


class TemplateCopyForm(forms.Form):
    workspace = forms.ModelChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(max_length=120)

    def __init__(self, *args, workspaces, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces
        self.fields["name"].initial = f"{template.name} (copy)"[:120]


class TemplateRenameForm(forms.ModelForm):
    class Meta:
        model = ChecklistTemplate
        fields = ["name"]


class TemplateItemForm(forms.ModelForm):
    check_id = forms.CharField(max_length=60, required=False, validators=[check_id_format],
                               help_text="Automated check id (see the catalogue), empty for a manual item.")

    class Meta:
        model = TemplateItem
        fields = ["title", "guidance", "check_id", "severity"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 3})}

    def clean_guidance(self):
        guidance = self.cleaned_data["guidance"]
        if len(guidance) > 2000:
            raise forms.ValidationError("Keep guidance under 2000 characters.")
        return guidance


class ItemMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
