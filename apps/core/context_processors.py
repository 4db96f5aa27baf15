from django.conf import settings


def product(request):
    return {"PRODUCT_NAME": "Launch Ready", "SITE_URL": settings.SITE_URL}
