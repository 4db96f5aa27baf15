from django import forms


class IssuePackForm(forms.Form):
    """Issuing freezes a draft. With gaps, the consultant must say why it goes out anyway (printed on the cover)."""

    override_reason = forms.CharField(
        required=False, max_length=2000, strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Override reason (needed only when the pack has gaps)",
        help_text="Printed on the cover, e.g. “Monitoring moves to the client's Datadog next week.”",
    )

    def __init__(self, *args, gaps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.gaps = list(gaps)

    def clean_override_reason(self):
        reason = self.cleaned_data.get("override_reason", "")
        if self.gaps and not reason:
            raise forms.ValidationError(
                f"The pack has {len(self.gaps)} gap(s): fill them, or say why you issue it anyway.")
        if "\x00" in reason:
            raise forms.ValidationError("Remove the control characters.")
        return reason
