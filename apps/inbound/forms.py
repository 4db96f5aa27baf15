from django import forms

RETURN_TO = [("sprint", "the sprint page"), ("portal", "the founder portal")]


class DeliveryTestRequestForm(forms.Form):
    """The "Create a test address" button; `return_to` only says which page to go back to (no open redirect)."""

    return_to = forms.ChoiceField(choices=RETURN_TO, required=False, widget=forms.HiddenInput)
