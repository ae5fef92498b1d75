"""Staff two-step sign-in: TOTP codes (pyotp), the enrolment QR code (segno, made locally), one-time
recovery codes, and the clinic-wide "require two-step sign-in" setting.

Owns: the StaffUser.mfa_* columns, staff_recovery_codes, and settings["require_mfa"].
May import: intake.models, intake.store, intake.audit, intake.auth (hashing, lockout, sessions).
The TOTP secret is StaffUser.mfa_secret, an encrypted column (intake.crypto).
Flask views live in intake/web/mfa.py; the second sign-in step is intake.auth.second_step.
"""
