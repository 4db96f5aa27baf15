from django.conf import settings
from django.utils.functional import SimpleLazyObject


def product(request):
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "PRODUCT_NAME": "Launch Ready",
        "SITE_URL": settings.SITE_URL,
        # Lazy: a page that shows no navigation runs no query for it.
        "user_is_consultant": SimpleLazyObject(lambda: signed_in and user.memberships.exists()),
        "user_is_founder": SimpleLazyObject(lambda: signed_in and user.client_accesses.exists()),
    }
