from django import forms

from apps.core.domains import DomainError

from .models import ScoreOrder


class ScoreOrderForm(forms.Form):
    """Domain and email only: the price is the server's (settings), whatever else the browser sends."""

    domain = forms.CharField(max_length=300, help_text="Your product's domain, e.g. example.com (Unicode is fine).")
    email = forms.EmailField(max_length=254, help_text="Where we send the link to your score.")

    def clean_domain(self):
        try:
            return ScoreOrder.clean_domain(self.cleaned_data["domain"])
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()
