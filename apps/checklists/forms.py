from django import forms

from .models import ChecklistTemplate, TemplateItem
from .roadmap import CHECK_IDS

# Only ids the check engine knows: an unknown id would silently never be checked.
CHECK_ID_CHOICES = [("", "— none: a manual item —"), *sorted((cid, cid) for cid in CHECK_IDS)]


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
    check_id = forms.ChoiceField(choices=CHECK_ID_CHOICES, required=False, label="Automated check",
                                 help_text="The check that decides this item automatically, if any.")

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
