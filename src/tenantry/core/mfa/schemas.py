from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

OTP = "otp"
RECOVERY_CODE = "recovery_code"
PASSKEY = "passkey"
MFA = "mfa"
"""The ``amr`` value (RFC 8176) of a sign-in that proved a second factor."""


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="Base32 secret, for authenticator apps that cannot scan the URI.")
    otpauth_uri: str = Field(description="`otpauth://totp/…` URI (what the QR code on the hosted page holds).")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=16, description="The 6-digit code the authenticator app shows now.")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Ten single-use codes, shown once: the user keeps them safe.")


class TotpOut(BaseModel):
    enrolled_at: datetime


class PasskeyOut(BaseModel):
    id: str
    name: str = Field(description="The name given when it was registered (e.g. the device).")
    kind: str = Field(description="`hwk`: bound to one device (a security key); `swk`: a synced passkey.")
    created_at: datetime
    last_used_at: datetime | None


class PasskeyList(BaseModel):
    data: list[PasskeyOut]


class MfaStatusOut(BaseModel):
    methods: list[str] = Field(
        description="Second factors the account can sign in with: `otp`, `passkey`, `recovery_code`."
    )
    totp: TotpOut | None = Field(description="The authenticator app, when one is enrolled.")
    passkeys: int = Field(default=0, description="How many passkeys are registered (`GET /me/mfa/passkeys`).")
    recovery_codes_remaining: int
    required: bool = Field(description="Whether an organization of the account (or the platform) requires MFA.")


class TotpImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: str = Field(
        min_length=16,
        max_length=128,
        description="The base32 TOTP secret the user's authenticator app already holds (from the system you "
        "migrate from; 6 digits, 30 seconds, SHA-1). At least 80 bits (16 base32 characters).",
    )
