"""Addresses stored with capitals (through the Django admin, before User.clean/save lowercased them) could never sign
in: sign-in looks them up in lower case. Lowercase them, except where another account already has that address
(that account is the one that signs in; the other stays as it is, for an operator to merge or remove)."""

from django.db import migrations
from django.db.models.functions import Lower


def lowercase_emails(apps, schema_editor):
    User = apps.get_model("tenants", "User")
    taken = set(User.objects.values_list(Lower("email"), flat=True).filter(email=Lower("email")))
    for pk, email in User.objects.exclude(email=Lower("email")).values_list("pk", "email"):
        lowered = email.lower()
        if lowered not in taken:
            User.objects.filter(pk=pk).update(email=lowered)
            taken.add(lowered)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [migrations.RunPython(lowercase_emails, migrations.RunPython.noop)]
