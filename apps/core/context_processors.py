from django.conf import settings
from django.utils.functional import SimpleLazyObject


def product(request):
    from apps.tenants.access import user_roles

    return {
        "PRODUCT_NAME": "Launch Ready",
        "SITE_URL": settings.SITE_URL,
        # Lazy: a page that shows no navigation runs no query for it; both come from one query.
        "user_is_consultant": SimpleLazyObject(lambda: user_roles(request).consultant),
        "user_is_founder": SimpleLazyObject(lambda: user_roles(request).founder),
    }
