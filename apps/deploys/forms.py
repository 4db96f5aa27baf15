from django import forms

from .models import ENVIRONMENTS


class DeployTokenForm(forms.Form):
    environment = forms.ChoiceField(choices=ENVIRONMENTS)
    label = forms.CharField(max_length=80, required=False,
                            help_text="Where the token will live, e.g. “GitHub Actions” (optional).")

    def clean_label(self):
        label = self.cleaned_data["label"]
        if "\x00" in label:
            raise forms.ValidationError("Remove the null character.")
        return label.strip()
