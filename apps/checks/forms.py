from django import forms


class DailyRescanForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Re-scan daily",
                                 help_text="While the client has an active or handed-over sprint. The workspace's "
                                           "consultants get an email when the score drops or a blocker appears.")
