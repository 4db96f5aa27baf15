"""The client's inventories in one table: which model, which form, its URL segment and who may write it.

The add/edit/delete views and URL patterns are generated from this table, so the six inventories share one
code path (and one set of permission rules) instead of six copy-pasted view sets.
"""

from dataclasses import dataclass

from . import forms
from .models import Endpoint, EnvVar, Hostname, Owner, RunbookStep, VendorAccount


@dataclass(frozen=True)
class Inventory:
    model: type
    form: type
    plural: str  # URL segment and the anchor of its section on the client page
    title: str
    founders_write: bool = False  # founders of the client may add/edit/delete (else consultants only)

    @property
    def key(self):
        """The model's lowercase name: URL names (`envvar_add`) and kwargs (`envvar_id`) derive from it."""
        return self.model._meta.model_name


INVENTORIES = {
    inventory.key: inventory
    for inventory in [
        Inventory(Hostname, forms.HostnameForm, "hostnames", "hostname"),
        Inventory(Endpoint, forms.EndpointForm, "endpoints", "endpoint"),
        Inventory(EnvVar, forms.EnvVarForm, "env-vars", "environment variable", founders_write=True),
        Inventory(VendorAccount, forms.VendorAccountForm, "vendor-accounts", "vendor account", founders_write=True),
        Inventory(RunbookStep, forms.RunbookStepForm, "runbook-steps", "runbook step"),
        Inventory(Owner, forms.OwnerForm, "owners", "owner"),
    ]
}


def writable_by(role):
    """The inventory keys a viewer with `role` may change."""
    consultant = role in ("owner", "consultant")
    return {key for key, inventory in INVENTORIES.items() if consultant or inventory.founders_write}
