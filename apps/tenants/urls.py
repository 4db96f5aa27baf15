from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("2fa/", views.two_factor_settings, name="two_factor"),
    path("2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("2fa/confirm/", views.two_factor_confirm, name="two_factor_confirm"),
    path("2fa/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/",
         auth_views.PasswordResetDoneView.as_view(template_name="tenants/password_reset_done.html"),
         name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("email/change/", views.email_change, name="email_change"),
    path("email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("workspaces/<uuid:workspace_id>/settings/", views.workspace_settings, name="workspace_settings"),
    path("workspaces/<uuid:workspace_id>/members/", views.members, name="members"),
    path("workspaces/<uuid:workspace_id>/members/invite/", views.member_invite, name="member_invite"),
    path("workspaces/<uuid:workspace_id>/members/remove/", views.member_remove, name="member_remove"),
    path("invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("clients/<uuid:client_id>/invite/", views.client_invite, name="client_invite"),
    path("clients/<uuid:client_id>/founders/remove/", views.founder_remove, name="founder_remove"),
]
